import ChatProtocol

/// Why a client could not connect, or lost its connection; each reads as one line a user can act on.
public struct ChatClientError: Error, Hashable, CustomStringConvertible {
    /// Broad kinds, so callers (the CLI's exit codes) can tell them apart.
    public enum Kind: Hashable, Sendable {
        /// The URL or another option is wrong; retrying will not help.
        case usage
        /// No connection could be made (refused, unreachable, name not found, timed out).
        case unreachable
        /// The server answered the upgrade with an HTTP error.
        case refused
        /// The connection was made and then lost or closed by the server.
        case disconnected
        /// The server spoke something other than this protocol.
        case protocolViolation
        /// The server's TLS certificate could not be trusted (expired, wrong host, unknown CA).
        case untrusted
    }

    /// The kind of failure.
    public let kind: Kind
    /// The HTTP status of a refused upgrade, or the close code of a closed connection.
    public let code: Int?

    /// Whether the server refused us for lack of a valid token (401) or a browser origin (403).
    public var isAccessDenied: Bool {
        self.kind == .refused && (self.code == 401 || self.code == 403)
    }
    private let message: String

    public var description: String { self.message }

    /// The URL cannot be used. The message quotes it, escaped: a control character in a command line
    /// argument must not reach the terminal, nor a newline split the one line of the error.
    public static func invalidURL(_ url: String, _ reason: String) -> ChatClientError {
        ChatClientError(
            kind: .usage,
            code: nil,
            message: TerminalSanitizer.sanitize("invalid URL '\(url)': \(reason)")
        )
    }

    /// An option cannot be used (a token file that cannot be read).
    public static func badOption(_ message: String) -> ChatClientError {
        ChatClientError(kind: .usage, code: nil, message: message)
    }

    /// The TCP connection could not be made.
    public static func unreachable(_ endpoint: String, _ reason: String) -> ChatClientError {
        ChatClientError(kind: .unreachable, code: nil, message: "cannot connect to \(endpoint): \(reason)")
    }

    /// The server answered the WebSocket upgrade with `status`.
    /// The server answered a plain request (`GET /rooms`) with an HTTP error.
    public static func requestRefused(_ endpoint: String, status: Int, reason: String) -> ChatClientError {
        ChatClientError(
            kind: .refused,
            code: status,
            message: "\(endpoint) answered HTTP \(status)\(Self.refusalDetail(status: status, reason: reason))"
        )
    }

    /// `: <the server's words>`, or for 401 how to give the token.
    private static func refusalDetail(status: Int, reason: String) -> String {
        if status == 401 { return ": a valid token is required; give it with --token-file FILE or CHAT_TOKEN" }
        return reason.isEmpty ? "" : ": \(reason)"
    }

    public static func upgradeRefused(_ endpoint: String, status: Int, reason: String) -> ChatClientError {
        ChatClientError(
            kind: .refused,
            code: status,
            message:
                "\(endpoint) refused the WebSocket upgrade with HTTP \(status)\(Self.refusalDetail(status: status, reason: reason))"
        )
    }

    /// The server closed the connection with a close frame.
    public static func closedByServer(code: Int, reason: String) -> ChatClientError {
        let detail = reason.isEmpty ? "" : " (\(reason))"
        return ChatClientError(
            kind: .disconnected,
            code: code,
            message: "the server closed the connection: \(code) \(Self.closeCodeName(code))\(detail)"
        )
    }

    /// The connection ended without a close handshake.
    public static func connectionLost(_ reason: String) -> ChatClientError {
        ChatClientError(kind: .disconnected, code: nil, message: "connection lost: \(reason)")
    }

    /// The server's certificate was refused.
    public static func untrusted(_ endpoint: String, _ reason: String) -> ChatClientError {
        ChatClientError(kind: .untrusted, code: nil, message: "cannot connect securely to \(endpoint): \(reason)")
    }

    /// The server did not follow the protocol.
    public static func protocolViolation(_ reason: String) -> ChatClientError {
        ChatClientError(kind: .protocolViolation, code: nil, message: "the server broke the protocol: \(reason)")
    }

    private static func closeCodeName(_ code: Int) -> String {
        switch code {
        case 1000: "normal closure"
        case 1001: "going away"
        case 1002: "protocol error"
        case 1003: "unsupported data"
        case 1007: "invalid data"
        case 1008: "policy violation"
        case 1009: "message too big"
        case 1011: "server error"
        default: "closed"
        }
    }
}
