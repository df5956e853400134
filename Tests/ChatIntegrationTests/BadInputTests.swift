import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import NIOCore
import NIOWebSocket
import Testing

/// Every kind of bad input gets a clear answer for the one client that sent it, and nobody else notices.
@Suite(.timeLimit(.minutes(1)))
struct BadInputTests {
    /// Runs `misbehave` on a raw connection while a well-behaved client watches the same room, then checks
    /// that the watcher can still chat and saw nothing but its own message.
    func withBystander(
        _ server: TestServer,
        _ misbehave: @escaping @Sendable (RawWebSocket) async throws -> Void
    ) async throws {
        try await ChatClient.withSession(server.client("bystander"), logger: testLogger) { bystander in
            try await withRawWebSocket(port: server.port, target: "/ws?name=rogue") { rogue in
                guard case .welcome? = try await rogue.nextServerFrame() else {
                    Issue.record("no welcome for the raw client")
                    return
                }
                try await misbehave(rogue)
            }
            try await bystander.send(.message(id: "ok-1", text: "still here"))
            var events = bystander.events.makeAsyncIterator()
            var errors: [ServerError] = []
            while let frame = try await events.next() {
                if let error = frame.error { errors.append(error) }
                // Messages the rogue legitimately posted may come first; ours must follow.
                if case .message(let message) = frame, message.from == "bystander" {
                    #expect(message.text == "still here")
                    break
                }
            }
            #expect(errors.isEmpty)
        }
    }

    @Test func aMessageOverTheLimitIsRejectedAndTheConnectionStays() async throws {
        try await withChatServer(ServerConfiguration(maxMessageBytes: 100)) { server in
            try await self.withBystander(server) { rogue in
                try await rogue.sendText(
                    #"{"type":"message","id":"big","text":"\#(String(repeating: "x", count: 101))"}"#
                )
                let error = try await rogue.nextServerFrame()?.error
                #expect(error?.code == "too_large")
                #expect(error?.id == "big")
                #expect(error?.message == "message is 101 bytes; the limit is 100")
                try await rogue.sendText(String(repeating: "é", count: 51))  // 102 bytes of raw text
                #expect(try await rogue.nextServerFrame()?.error?.code == "too_large")
                try await rogue.sendText(
                    #"{"type":"message","id":"fits","text":"\#(String(repeating: "x", count: 100))"}"#
                )
                #expect(try await rogue.nextServerFrame() == .ack(Ack(id: "fits", seq: 1)))
            }
        }
    }

    @Test func invalidUTF8ClosesWith1007() async throws {
        try await withChatServer { server in
            try await self.withBystander(server) { rogue in
                try await rogue.send(.text, ByteBuffer(bytes: [0x68, 0xC3, 0x28, 0xFF]))
                #expect(try await rogue.nextCloseCode() == 1007)
            }
        }
    }

    @Test func aBinaryFrameIsUnsupported() async throws {
        try await withChatServer { server in
            try await self.withBystander(server) { rogue in
                try await rogue.send(.binary, ByteBuffer(bytes: [1, 2, 3]))
                #expect(try await rogue.nextServerFrame()?.error?.code == "unsupported")
            }
        }
    }

    @Test(arguments: [
        (#"{"type":"message","text":"#, "malformed JSON"),
        (#"{"type":"message","text":5}"#, "'text' must be a string"),
        (#"{"type":"dance"}"#, "unknown type 'dance'; expected 'message', 'nick' or 'typing'"),
        (#"{"type":"nick"}"#, "a nick needs 'name'"),
    ])
    func malformedOrMisshapenJSONIsABadRequestNamingTheProblem(_ text: String, _ message: String) async throws {
        try await withChatServer { server in
            try await self.withBystander(server) { rogue in
                try await rogue.sendText(text)
                #expect(try await rogue.nextServerFrame()?.error == ServerError(code: "bad_request", message: message))
            }
        }
    }

    @Test func anInvalidNickIsRefused() async throws {
        try await withChatServer { server in
            try await self.withBystander(server) { rogue in
                try await rogue.sendText(#"{"type":"nick","name":"\u001b[2J"}"#)
                #expect(try await rogue.nextServerFrame()?.error?.code == "invalid_name")
            }
        }
    }

    @Test func aFrameOverTheHardCapClosesWith1009() async throws {
        try await withChatServer(ServerConfiguration(maxMessageBytes: 1000, maxFrameBytes: 4096)) { server in
            try await self.withBystander(server) { rogue in
                try await rogue.send(.text, ByteBuffer(repeating: UInt8(ascii: "x"), count: 5000))
                #expect(try await rogue.nextCloseCode() == 1009)
            }
        }
    }

    @Test func aFragmentedMessageArrivesWhole() async throws {
        try await withChatServer { server in
            try await withRawWebSocket(port: server.port, target: "/ws?name=frag") { socket in
                _ = try await socket.nextServerFrame()
                try await socket.send(.text, ByteBuffer(string: "hel"), fin: false)
                try await socket.send(.continuation, ByteBuffer(string: "lo"), fin: true)
                #expect(try await socket.nextServerFrame()?.message?.text == "hello")
            }
        }
    }

    @Test func pingsAreAnsweredWithTheirPayload() async throws {
        try await withChatServer { server in
            try await withRawWebSocket(port: server.port) { socket in
                _ = try await socket.nextServerFrame()
                try await socket.send(.ping, ByteBuffer(string: "are you there"))
                let pong = try await socket.nextFrame()
                #expect(pong?.opcode == .pong)
                #expect(pong.map { String(buffer: $0.unmaskedData) } == "are you there")
            }
        }
    }

    @Test func aClientsCloseIsEchoed() async throws {
        try await withChatServer { server in
            try await withRawWebSocket(port: server.port) { socket in
                _ = try await socket.nextServerFrame()
                var code = ByteBuffer()
                code.write(webSocketErrorCode: .normalClosure)
                try await socket.send(.connectionClose, code)
                #expect(try await socket.nextCloseCode() == 1000)
                #expect(try await socket.nextFrame() == nil)
            }
        }
    }

    @Test func aTwentyThousandDeepJSONIsRefusedQuicklyAndTheConnectionStays() async throws {
        try await withChatServer { server in
            try await withRawWebSocket(port: server.port, target: "/ws?name=deep") { socket in
                _ = try await socket.nextServerFrame()
                let depth = 20_000
                try await socket.sendText(
                    #"{"type":"message","text":"# + String(repeating: "[", count: depth)
                        + String(repeating: "]", count: depth) + "}"
                )
                let refusal = try await socket.nextServerFrame()
                #expect(refusal?.error?.code == ChatErrorCode.badRequest)
                // Not an object: the same brackets are simply the text of a message.
                try await socket.sendText(String(repeating: "[", count: depth))
                let echoed = try await socket.nextServerFrame()
                #expect(echoed?.message?.text.count == depth)
            }
        }
    }

    @Test func anOversizedRequestHeadIsRefusedAndTheServerCarriesOn() async throws {
        try await withChatServer { server in
            let huge = "GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n"
            let response = try await rawHTTPExchange(port: server.port, request: huge)
            #expect(httpStatus(response) == 431)
            let health = try await rawHTTPExchange(
                port: server.port,
                request: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(httpStatus(health) == 200)
        }
    }
}
