import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

/// The echo endpoint (`--echo-path`) against the RFC 6455 MUSTs SwiftNIO leaves to the application.
@Suite(.timeLimit(.minutes(1)))
struct EchoConformanceTests {
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let continuation: UInt8 = 0x0
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    private func withEcho(_ body: @escaping @Sendable (RawFrameSocket) async throws -> Void) async throws {
        try await withChatServer(ServerConfiguration(echoPath: "/echo"), logger: testLogger) { server in
            try await withRawFrameSocket(port: server.port, path: "/echo", body)
        }
    }

    @Test func textAndBinaryComeBackVerbatim() async throws {
        try await self.withEcho { socket in
            try await socket.send(opcode: Self.text, Array("héllo ✓".utf8))
            let text = try await socket.nextFrame()
            #expect(text?.opcode == Self.text)
            #expect(text?.payload == Array("héllo ✓".utf8))
            try await socket.send(opcode: Self.binary, [0, 1, 2, 255])
            let binary = try await socket.nextFrame()
            #expect(binary?.opcode == Self.binary)
            #expect(binary?.payload == [0, 1, 2, 255])
            try await socket.send(opcode: Self.close, [0x03, 0xE8])
            #expect(try await socket.nextCloseCode() == 1000)
        }
    }

    @Test func aPingInsideAFragmentedMessageIsAnsweredFirst() async throws {
        try await self.withEcho { socket in
            try await socket.send(opcode: Self.text, Array("Hel".utf8), fin: false)
            try await socket.send(opcode: Self.ping, Array("p".utf8))
            try await socket.send(opcode: Self.continuation, Array("lo".utf8))
            let pong = try await socket.nextFrame()
            #expect(pong?.opcode == Self.pong)
            #expect(pong?.payload == Array("p".utf8))
            let message = try await socket.nextFrame()
            #expect(message?.opcode == Self.text)
            #expect(message?.payload == Array("Hello".utf8))
        }
    }

    @Test func invalidUTF8SplitAcrossFragmentsCloses1007() async throws {
        try await self.withEcho { socket in
            // κ (0xCE 0xBA) split, then a byte that cannot follow.
            try await socket.send(opcode: Self.text, [0xCE], fin: false)
            try await socket.send(opcode: Self.continuation, [0xBA, 0xFF])
            #expect(try await socket.nextCloseCode() == 1007)
        }
    }

    @Test(arguments: [
        ("a 126-byte ping", Self.ping, [UInt8](repeating: 0x61, count: 126), true, true, UInt8(0)),
        ("an unmasked frame", Self.text, Array("hi".utf8), true, false, UInt8(0)),
        ("a reserved bit", Self.text, Array("hi".utf8), true, true, UInt8(0b100)),
        ("an unknown opcode", UInt8(0x3), Array("hi".utf8), true, true, UInt8(0)),
        ("a fragmented ping", Self.ping, Array("p".utf8), false, true, UInt8(0)),
        ("a continuation without a message", Self.continuation, Array("x".utf8), true, true, UInt8(0)),
        ("a close with code 1005", Self.close, [0x03, 0xED], true, true, UInt8(0)),
        ("a close with code 999", Self.close, [0x03, 0xE7], true, true, UInt8(0)),
        ("a close body of one byte", Self.close, [0x03], true, true, UInt8(0)),
    ])
    func aProtocolViolationCloses1002(
        _ what: String,
        _ opcode: UInt8,
        _ payload: [UInt8],
        _ fin: Bool,
        _ masked: Bool,
        _ rsv: UInt8
    ) async throws {
        try await self.withEcho { socket in
            try await socket.send(opcode: opcode, payload, fin: fin, masked: masked, rsv: rsv)
            #expect(try await socket.nextCloseCode() == 1002, "\(what)")
        }
    }

    @Test func aNewMessageInsideAFragmentedOneCloses1002() async throws {
        try await self.withEcho { socket in
            try await socket.send(opcode: Self.text, Array("a".utf8), fin: false)
            try await socket.send(opcode: Self.text, Array("b".utf8))
            #expect(try await socket.nextCloseCode() == 1002)
        }
    }

    @Test func aCloseReasonThatIsNotUTF8Closes1007() async throws {
        try await self.withEcho { socket in
            try await socket.send(opcode: Self.close, [0x03, 0xE8, 0xFF])
            #expect(try await socket.nextCloseCode() == 1007)
        }
    }

    @Test func theChatEndpointHasTheSameRules() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await withRawFrameSocket(port: server.port, path: "/ws?name=raw") { socket in
                _ = try await socket.nextFrame()  // welcome
                try await socket.send(opcode: Self.text, Array("hi".utf8), masked: false)
                #expect(try await socket.nextCloseCode() == 1002)
            }
        }
    }
}
