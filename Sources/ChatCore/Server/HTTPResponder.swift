import NIOCore
import NIOHTTP1

/// Answers the plain HTTP requests of the server: `/healthz`, and the errors for everything that is not
/// a WebSocket upgrade to a chat endpoint.
enum HTTPResponder {
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// The status and body for a request that was not upgraded.
    static func response(
        for head: HTTPRequestHead,
        policy: AccessPolicy,
        echoPath: String?
    ) -> (HTTPResponseStatus, String) {
        let (path, _) = ConnectRequest.split(head.uri)
        if path == "/healthz" {
            guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, "use GET\n") }
            return (.ok, "ok\n")
        }
        if let echoPath, path == echoPath {
            return Self.denial(policy.check(head, queryToken: ConnectRequest.queryToken(head.uri)))
                ?? (.upgradeRequired, "this is a WebSocket echo endpoint; connect with a WebSocket client\n")
        }
        switch ConnectRequest.parse(uri: head.uri) {
        case .none:
            return (.notFound, "not found; the chat endpoint is /ws or /ws/ROOM\n")
        case .failure(let rejection)?:
            return (rejection.status, rejection.message + "\n")
        case .success(let request)?:
            if let denial = Self.denial(policy.check(head, queryToken: request.token)) { return denial }
            // A valid chat path without a (valid) WebSocket upgrade.
            return (.upgradeRequired, "this is a WebSocket endpoint; connect with a WebSocket client\n")
        }
    }

    private static func denial(_ denial: AccessPolicy.Denial?) -> (HTTPResponseStatus, String)? {
        switch denial {
        case .unauthorized?:
            return (.unauthorized, "a valid token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)\n")
        case .forbiddenOrigin(let origin)?:
            return (
                .forbidden,
                "pages from \(TerminalSanitizer.sanitize(origin)) may not connect; the server allows them with --allow-origin\n"
            )
        case nil:
            return nil
        }
    }

    /// Writes a complete plain-text response and asks the client to close the connection.
    static func write(
        _ status: HTTPResponseStatus,
        body: String,
        headOnly: Bool,
        to outbound: Outbound
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        if status == .upgradeRequired {
            headers.add(name: "Upgrade", value: "websocket")
        }
        if status == .unauthorized {
            headers.add(name: "WWW-Authenticate", value: "Bearer realm=\"chat\"")
        }
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        if headOnly {
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        } else {
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(string: body))), .end(nil)])
        }
    }
}
