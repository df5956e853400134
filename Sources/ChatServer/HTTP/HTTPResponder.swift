import ChatProtocol
import NIOCore
import NIOHTTP1

/// Answers the plain HTTP requests of the server: the web page, `/healthz`, `/metrics`, and the errors for
/// everything that is not a WebSocket upgrade to a chat endpoint.
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

    /// The answer for a request that was not upgraded.
    /// - Parameters:
    ///   - head: The request.
    ///   - route: Its route.
    ///   - policy: The token and origin rules of WebSocket endpoints.
    ///   - unhealthy: Why `/healthz` should answer 503 (a cluster node that cannot reach PostgreSQL), or nil.
    ///   - metrics: Renders `/metrics` (only called for that route); nil: the server exposes no metrics.
    ///   - rooms: `/rooms`' list, read before (it may come from the cluster's database); nil: it could not be.
    static func response(
        for head: HTTPRequestHead,
        route: Route,
        policy: AccessPolicy,
        unhealthy: String? = nil,
        metrics: (() -> String)?,
        rooms: RoomList? = nil
    ) -> Answer {
        let plain: Route.Plain
        switch route {
        case .plain(let route):
            plain = route
        case .echo:
            return Self.webSocketEndpoint(head, parsed: nil, policy: policy, unhealthy: unhealthy)
        case .chat(let parsed):
            return Self.webSocketEndpoint(head, parsed: parsed, policy: policy, unhealthy: unhealthy)
        case .notFound:
            return Answer(status: .notFound, body: "not found; the chat endpoint is /ws or /ws/ROOM\n")
        }
        guard head.method == .GET || head.method == .HEAD else {
            return Answer(status: .methodNotAllowed, body: "use GET or HEAD\n", headers: [("Allow", "GET, HEAD")])
        }
        switch plain {
        case .page(let file):
            return Self.page(file)
        case .metrics:
            guard let metrics else { return Answer(status: .notFound, body: "this server exposes no metrics\n") }
            return Answer(status: .ok, body: metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case .healthz:
            // A load balancer stops sending clients to a node that answers 503.
            if let unhealthy { return Answer(status: .serviceUnavailable, body: "\(unhealthy)\n") }
            return Answer(status: .ok, body: "ok\n")
        case .access:
            return Self.denial(policy.check(head, queryToken: ConnectRequest.queryToken(head.uri)))
                ?? Answer(status: .ok, body: "ok\n")
        case .favicon:
            return Answer(status: .noContent, body: "")
        case .rooms:
            if let denial = Self.denial(policy.check(head, queryToken: ConnectRequest.queryToken(head.uri))) {
                return denial
            }
            guard let rooms else {
                return Answer(status: .serviceUnavailable, body: "the room list cannot be read now\n")
            }
            return Answer(
                status: .ok,
                body: String(buffer: rooms.encode()) + "\n",
                contentType: "application/json"
            )
        }
    }

    /// The page or one of its files.
    private static func page(_ file: Route.PageFile) -> Answer {
        let content: (String, String) =
            switch file {
            case .html: (WebPage.html, "text/html; charset=utf-8")
            case .javascript(let script): (script.source, "text/javascript; charset=utf-8")
            case .css: (WebPage.css, "text/css; charset=utf-8")
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

    /// A chat or echo path that was not upgraded: why not, in the order a client can fix it.
    /// - Parameter parsed: A chat endpoint's parameters, or why they are wrong; nil for the echo endpoint.
    private static func webSocketEndpoint(
        _ head: HTTPRequestHead,
        parsed: Result<ConnectRequest, ConnectRequest.Rejection>?,
        policy: AccessPolicy,
        unhealthy: String?
    ) -> Answer {
        let isEcho = parsed == nil
        if let refusal = UpgradeRequirements.methodRefusal(for: head) { return Self.answer(refusal) }
        if case .failure(let rejection)? = parsed {
            return Answer(status: rejection.status, body: rejection.message + "\n")
        }
        if UpgradeRequirements.asksForUpgrade(head), let refusal = UpgradeRequirements.refusal(for: head) {
            return Self.answer(refusal)
        }
        if let denial = Self.denial(policy.check(head, queryToken: ConnectRequest.queryToken(head.uri))) {
            return denial
        }
        if let unhealthy, !isEcho, UpgradeRequirements.asksForUpgrade(head) {
            // A node that cannot reach the cluster's database admits nobody: the client (or nginx's
            // `proxy_next_upstream http_503`) tries another node.
            return Answer(
                status: .serviceUnavailable,
                body: "\(unhealthy); try another node\n",
                headers: [("Retry-After", "1")]
            )
        }
        // A valid endpoint without a (valid) WebSocket upgrade.
        let what = isEcho ? "a WebSocket echo endpoint" : "a WebSocket endpoint"
        return Answer(status: .upgradeRequired, body: "this is \(what); connect with a WebSocket client\n")
    }

    private static func answer(_ refusal: UpgradeRequirements.Refusal) -> Answer {
        Answer(
            status: refusal.status,
            body: refusal.message + "\n",
            headers: refusal.headers.map { ($0.name, $0.value) }
        )
    }

    private static func denial(_ denial: AccessPolicy.Denial?) -> Answer? {
        switch denial {
        case .unauthorized?:
            return Answer(
                status: .unauthorized,
                body: "a valid token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)\n",
                headers: [("WWW-Authenticate", "Bearer realm=\"chat\"")]
            )
        case .forbiddenOrigin(let origin)?:
            return Answer(
                status: .forbidden,
                body:
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
            // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to.
            headers.add(name: "Upgrade", value: "websocket")
        }
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        if headOnly {
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        } else {
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(string: body))), .end(nil)])
        }
    }
}
