import ChatProtocol
import ChatServer
import ChatTestSupport
import NIOCore
import Testing

/// Only an HTTP/1.1 GET with a bounded head and a well-formed key becomes a WebSocket (RFC 6455 §4.2.1),
/// on chat paths and the echo path alike; everything else gets an HTTP answer and the server carries on.
@Suite(.timeLimit(.minutes(1)))
struct HandshakeTests {
    private static let upgradeHeaders = [
        "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]

    private static func request(_ requestLine: String, _ headers: [String]) -> String {
        ([requestLine] + headers + ["", ""]).joined(separator: "\r\n")
    }

    private static func header(_ name: String, in response: String) -> String? {
        let prefix = name.lowercased() + ":"
        return response.split(separator: "\r\n").first { $0.lowercased().hasPrefix(prefix) }
            .map { $0.dropFirst(prefix.count).trimmingPrefix(" ") }.map(String.init)
    }

    @Test func aProperHandshakeStillUpgrades() async throws {
        try await withChatServer(ServerConfiguration(echoPath: "/echo")) { server in
            for path in ["/ws", "/echo"] {
                let head = try await rawHTTPHead(
                    port: server.port,
                    request: Self.request("GET \(path) HTTP/1.1", ["Host: 127.0.0.1"] + Self.upgradeHeaders)
                )
                #expect(httpStatus(head) == 101, "\(path)")
            }
        }
    }

    @Test(arguments: ["/ws", "/ws/ops", "/echo"])
    func anUpgradeThatIsNotAGetIs405(_ path: String) async throws {
        try await withChatServer(ServerConfiguration(echoPath: "/echo")) { server in
            for method in ["POST", "PUT", "HEAD", "DELETE"] {
                let response = try await rawHTTPExchange(
                    port: server.port,
                    request: Self.request(
                        "\(method) \(path) HTTP/1.1",
                        ["Host: 127.0.0.1", "Content-Length: 0"] + Self.upgradeHeaders
                    )
                )
                #expect(httpStatus(response) == 405, "\(method) \(path)")
                #expect(Self.header("Allow", in: response) == "GET", "\(method) \(path)")
            }
        }
    }

    @Test(arguments: ["/ws", "/echo"])
    func anHTTP10UpgradeIsRefused(_ path: String) async throws {
        try await withChatServer(ServerConfiguration(echoPath: "/echo")) { server in
            let response = try await rawHTTPExchange(
                port: server.port,
                request: Self.request("GET \(path) HTTP/1.0", ["Host: 127.0.0.1"] + Self.upgradeHeaders)
            )
            #expect(httpStatus(response) == 400)
            #expect(response.hasSuffix("a WebSocket upgrade needs HTTP/1.1\n"))
        }
    }

    @Test(arguments: [
        ("Sec-WebSocket-Key: abc", 400),
        ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ", 400),  // no padding: not 16 bytes
        ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=", 400),
        ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSBhbmQgbW9yZQ==", 400),  // 23 bytes
    ])
    func aKeyThatIsNotSixteenBytesOfBase64Is400(_ key: String, _ status: Int) async throws {
        try await withChatServer(ServerConfiguration(echoPath: "/echo")) { server in
            for path in ["/ws", "/echo"] {
                let headers =
                    ["Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade", key] + [
                        "Sec-WebSocket-Version: 13"
                    ]
                let response = try await rawHTTPExchange(
                    port: server.port,
                    request: Self.request("GET \(path) HTTP/1.1", headers)
                )
                #expect(httpStatus(response) == status, "\(key) on \(path)")
                #expect(response.hasSuffix("Sec-WebSocket-Key must be 16 bytes in base64\n"))
            }
        }
    }

    @Test func anotherWebSocketVersionIs426NamingVersion13() async throws {
        try await withChatServer { server in
            var headers = ["Host: 127.0.0.1"] + Self.upgradeHeaders.dropLast()
            headers.append("Sec-WebSocket-Version: 8")
            let response = try await rawHTTPExchange(
                port: server.port,
                request: Self.request("GET /ws HTTP/1.1", headers)
            )
            #expect(httpStatus(response) == 426)
            #expect(Self.header("Sec-WebSocket-Version", in: response) == "13")
        }
    }

    @Test func anUpgradeWithoutHostIs400() async throws {
        try await withChatServer { server in
            let response = try await rawHTTPExchange(
                port: server.port,
                request: Self.request("GET /ws HTTP/1.1", Self.upgradeHeaders)
            )
            #expect(httpStatus(response) == 400)
        }
    }

    @Test(arguments: [
        ("one 64 KiB header", ["X-Big: " + String(repeating: "a", count: 64 * 1024)]),
        ("2,000 small headers", (0..<2000).map { "X-\($0): y" }),
        ("106 lines", (0..<100).map { "X-\($0): y" }),
    ])
    func aHeadOverTheBoundsIs431AndTheServerCarriesOn(_ what: String, _ extra: [String]) async throws {
        try await withChatServer { server in
            let response = try await rawHTTPExchange(
                port: server.port,
                request: Self.request("GET /ws HTTP/1.1", ["Host: 127.0.0.1"] + extra + Self.upgradeHeaders)
            )
            #expect(httpStatus(response) == 431, "\(what)")
            let health = try await rawHTTPExchange(
                port: server.port,
                request: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(httpStatus(health) == 200)
        }
    }

    @Test func aHeadJustWithinTheBoundsUpgrades() async throws {
        try await withChatServer { server in
            // 100 lines in all: the request line, 4 upgrade headers, Host and 94 more.
            let filler = (0..<94).map { "X-\($0): y" }
            let head = try await rawHTTPHead(
                port: server.port,
                request: Self.request("GET /ws HTTP/1.1", ["Host: 127.0.0.1"] + filler + Self.upgradeHeaders)
            )
            #expect(httpStatus(head) == 101)
        }
    }

    @Test func aHeadThatNeverEndsIsAnsweredOnceItPassesTheBound() async throws {
        // The handshake timeout is far away: only counting while reading can answer within the test's time.
        try await withChatServer(ServerConfiguration(handshakeTimeout: .seconds(600))) { server in
            let unterminated = "GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20 * 1024)
            let response = try await withTimeout(.seconds(5)) {
                try await rawHTTPExchange(port: server.port, request: unterminated)
            }
            #expect(httpStatus(response) == 431)
        }
    }

    @Test(arguments: ["/", "/r/ops", "/app.js", "/app.css", "/healthz", "/metrics", "/access", "/favicon.ico"])
    func plainRoutesAnswerOnlyGetAndHead(_ path: String) async throws {
        try await withChatServer { server in
            for method in ["POST", "PUT", "DELETE", "PATCH"] {
                let response = try await rawHTTPExchange(
                    port: server.port,
                    request: Self.request("\(method) \(path) HTTP/1.1", ["Host: x", "Content-Length: 0"])
                )
                #expect(httpStatus(response) == 405, "\(method) \(path)")
                #expect(Self.header("Allow", in: response) == "GET, HEAD", "\(method) \(path)")
            }
            let head = try await rawHTTPExchange(port: server.port, request: "HEAD \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect([200, 204].contains(httpStatus(head)), "HEAD \(path)")
        }
    }
}
