import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

/// `--token-file` and `--allow-origin` at the HTTP level and through the client.
@Suite(.timeLimit(.minutes(1)))
struct AccessTests {
    private static func upgrade(_ target: String, _ headers: [String] = []) -> String {
        ([
            "GET \(target) HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ] + headers + ["", ""])
        .joined(separator: "\r\n")
    }

    @Test func withATokenEveryUpgradeMustCarryIt() async throws {
        try await withChatServer(ServerConfiguration(token: "s3cret")) { server in
            let missing = try await rawHTTPExchange(port: server.port, request: Self.upgrade("/ws"))
            #expect(httpStatus(missing) == 401)
            #expect(missing.contains("WWW-Authenticate: Bearer"))
            let wrong = try await rawHTTPExchange(
                port: server.port,
                request: Self.upgrade("/ws", ["Authorization: Bearer nope"])
            )
            #expect(httpStatus(wrong) == 401)
            // The health check stays open.
            let health = try await rawHTTPExchange(
                port: server.port,
                request: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(httpStatus(health) == 200)

            var configuration = server.client("alice")
            configuration.token = "s3cret"
            try await ChatClient.withSession(configuration, logger: testLogger) { session in
                #expect(session.welcome.you.name == "alice")
            }
            // A browser page passes it in the query.
            try await withRawWebSocket(port: server.port, target: "/ws?name=page&token=s3cret") { socket in
                let frame = try await socket.nextServerFrame()
                #expect(frame?.welcome?.you.name == "page")
            }
            configuration.token = "wrong"
            await #expect {
                try await ChatClient.withSession(configuration, logger: testLogger) { _ in }
            } throws: { error in
                (error as? ChatClientError)?.isAccessDenied == true && (error as? ChatClientError)?.code == 401
            }
        }
    }

    @Test func aPageFromAnotherSiteIsRefusedWith403() async throws {
        try await withChatServer(ServerConfiguration(allowedOrigins: ["https://friend.example"])) { server in
            let foreign = try await rawHTTPExchange(
                port: server.port,
                request: Self.upgrade("/ws", ["Origin: http://evil.example"])
            )
            #expect(httpStatus(foreign) == 403)
            let friend = try await rawHTTPHead(
                port: server.port,
                request: Self.upgrade("/ws", ["Origin: https://friend.example"])
            )
            #expect(httpStatus(friend) == 101)
            let own = try await rawHTTPHead(
                port: server.port,
                request: Self.upgrade("/ws", ["Origin: http://127.0.0.1"])
            )
            #expect(httpStatus(own) == 101)
        }
    }
}
