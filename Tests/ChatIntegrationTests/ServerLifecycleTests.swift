import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ServerLifecycleTests {
    @Test func healthzAnswers200() async throws {
        try await withChatServer { server in
            let response = try await rawHTTPExchange(
                port: server.port,
                request: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(httpStatus(response) == 200)
            #expect(response.hasSuffix("\r\n\r\nok\n"))
        }
    }

    @Test(arguments: [
        ("GET /r/ HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        ("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        ("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 426),
        ("GET /ws/ops HTTP/1.1\r\nHost: x\r\n\r\n", 426),
        ("GET /ws?name=%01 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (
            "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            404
        ),
        (
            "GET /ws/bad%20room HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            404
        ),
        (
            "GET /ws?since=x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            400
        ),
    ])
    func requestsThatAreNotChatConnectionsGetAnHTTPAnswer(_ request: String, _ status: Int) async throws {
        try await withChatServer { server in
            let response = try await rawHTTPExchange(port: server.port, request: request)
            #expect(httpStatus(response) == status)
        }
    }

    @Test func theClientReportsARefusedUpgradeWithItsStatus() async throws {
        try await withChatServer { server in
            var configuration = server.client("x")
            configuration.url.basePath = "/nope/ws"
            await #expect {
                try await ChatClient.withSession(configuration, logger: testLogger) { _ in }
            } throws: { error in
                (error as? ChatClientError)?.kind == .refused && (error as? ChatClientError)?.code == 404
            }
        }
    }

    @Test func gracefulShutdownClosesClientsWith1001() async throws {
        try await withChatServer { server in
            try await withRawWebSocket(port: server.port) { socket in
                _ = try await socket.nextServerFrame()
                await server.shutdown()
                #expect(try await socket.nextCloseCode() == 1001)
            }
            // A server that is shutting down accepts no one new.
            await #expect {
                try await ChatClient.withSession(server.client("late"), logger: testLogger) { _ in }
            } throws: { error in
                (error as? ChatClientError)?.kind == .unreachable
            }
        }
    }

    @Test func aChatClientLearnsWhyTheServerClosed() async throws {
        try await withChatServer { server in
            try await ChatClient.withSession(server.client("alice"), logger: testLogger) { session in
                await server.shutdown()
                await #expect {
                    for try await _ in session.events {}
                } throws: { error in
                    (error as? ChatClientError)?.code == 1001
                }
            }
        }
    }

    @Test func connectionsOverTheLimitAreAnswered503AndRetryable() async throws {
        try await withChatServer(ServerConfiguration(maxConnections: 1)) { server in
            try await ChatClient.withSession(server.client("first"), logger: testLogger) { _ in
                await #expect {
                    try await ChatClient.withSession(server.client("second"), logger: testLogger) { _ in }
                } throws: { error in
                    guard let error = error as? ChatClientError else { return false }
                    return error.code == 503 && ReconnectPolicy.isRetryable(error)
                }
            }
        }
    }

    @Test func oneAddressGetsNoMoreThanItsShareAnd429ForTheRest() async throws {
        try await withChatServer(ServerConfiguration(maxConnectionsPerAddress: 2)) { server in
            try await ChatClient.withSession(server.client("one"), logger: testLogger) { _ in
                _ = try await ChatClient.withSession(server.client("two"), logger: testLogger) { _ in
                    await #expect {
                        try await ChatClient.withSession(server.client("three"), logger: testLogger) { _ in }
                    } throws: { error in
                        guard let error = error as? ChatClientError else { return false }
                        return error.code == 429 && ReconnectPolicy.isRetryable(error)
                    }
                }
            }
            // Once those are closed, the address may connect again.
            try await ChatClient.withSession(server.client("again"), logger: testLogger) { session in
                #expect(session.welcome.you.name == "again")
            }
        }
    }
}
