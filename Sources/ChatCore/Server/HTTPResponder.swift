import NIOCore
import NIOHTTP1

/// Answers the plain HTTP requests of the server: the web page, `/healthz`, and the errors for everything
/// that is not a WebSocket upgrade to a chat endpoint.
enum HTTPResponder {
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// A complete answer.
    struct Answer {
        var status: HTTPResponseStatus
        var body: String
        var contentType = "text/plain; charset=utf-8"
        var headers: [(String, String)] = []
    }

    /// What the browser page may do: load its own script and stylesheet and open a WebSocket to the same
    /// origin — nothing inline, nothing from elsewhere, never in a frame.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The status and body for a request that was not upgraded.
    static func response(
        for head: HTTPRequestHead,
        policy: AccessPolicy,
        echoPath: String?
    ) -> Answer {
        let (path, _) = ConnectRequest.split(head.uri)
        if let page = Self.page(path) {
            guard head.method == .GET || head.method == .HEAD else {
                return Answer(status: .methodNotAllowed, body: "use GET\n")
            }
            return page
        }
        let (status, body) = Self.plainResponse(for: head, path: path, policy: policy, echoPath: echoPath)
        return Answer(status: status, body: body)
    }

    /// The page and its two files; nil for other paths.
    private static func page(_ path: Substring) -> Answer? {
        let content: (String, String)
        if path == "/" || (path.hasPrefix("/r/") && RoomName.isValid(path.dropFirst(3))) {
            content = (WebPage.html, "text/html; charset=utf-8")
        } else if path == "/app.js" {
            content = (WebPage.javascript, "text/javascript; charset=utf-8")
        } else if path == "/app.css" {
            content = (WebPage.css, "text/css; charset=utf-8")
        } else {
            return nil
        }
        return Answer(
            status: .ok,
            body: content.0,
            contentType: content.1,
            headers: [
                ("Content-Security-Policy", Self.contentSecurityPolicy),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
            ]
        )
    }

    private static func plainResponse(
        for head: HTTPRequestHead,
        path: Substring,
        policy: AccessPolicy,
        echoPath: String?
    ) -> (HTTPResponseStatus, String) {
        if path == "/healthz" {
            guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, "use GET\n") }
            return (.ok, "ok\n")
        }
        if path == "/access" {
            // For the page: whether its token (if any) would be accepted, since a refused WebSocket says nothing.
            return Self.denial(policy.check(head, queryToken: ConnectRequest.queryToken(head.uri))) ?? (.ok, "ok\n")
        }
        if path == "/favicon.ico" {
            return (.noContent, "")
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

    /// Writes a complete response and asks the client to close the connection.
    static func write(_ answer: Answer, headOnly: Bool, to outbound: Outbound) async throws {
        let (status, body) = (answer.status, answer.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
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
