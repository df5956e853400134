import ChatProtocol
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Synchronization
import Testing

@testable import ChatServer

/// A server connection on an `EmbeddedEventLoop` whose clock moves only when the test says: every timer
/// (pings and their deadline, a stalled socket, the close timeout) with no real time passing, and the
/// order of what it does.
struct ServerConnectionTests {
    /// Records the frames that reach the head of the pipeline.
    final class Wire: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
        private let frames = Mutex<[ByteBuffer]>([])

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let frame = self.unwrapOutboundIn(data)
            self.frames.withLock { $0.append(frame) }
            context.write(data, promise: promise)
        }

        /// Takes what was written since the last call, as (opcode, payload).
        func take() -> [(opcode: UInt8, payload: ByteBuffer)] {
            self.frames.withLock { frames in
                defer { frames.removeAll() }
                // Short unmasked server frames: two header bytes, then the payload.
                return frames.map { frame in
                    let opcode = frame.getInteger(at: frame.readerIndex, as: UInt8.self)! & 0x0F
                    return (opcode, frame.getSlice(at: frame.readerIndex + 2, length: frame.readableBytes - 2)!)
                }
            }
        }
    }

    final class Texts: Sendable {
        let all = Mutex<[String]>([])
    }

    struct Fixture {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel
        let wire = Wire()
        let connection: ServerConnection
        let settings: ConnectionSettings

        init(_ configuration: ServerConfiguration) throws {
            self.settings = ConnectionSettings(configuration)
            self.channel = EmbeddedChannel(loop: self.loop)
            self.connection = ServerConnection(
                eventLoop: self.loop,
                queue: DeliveryQueue(eventLoop: self.loop),
                settings: self.settings,
                logger: Logger(label: "test"),
                budget: BacklogBudget(limit: .max, progressGrace: .seconds(1))
            )
            try self.channel.pipeline.syncOperations.addHandler(self.wire)
            try self.channel.pipeline.syncOperations.addHandler(WireWriter(eventLoop: self.loop))
            try self.channel.pipeline.syncOperations.addHandler(self.connection)
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// Attaches an application that records the texts it is handed (and closes on `close`).
        func attach() -> Texts {
            let texts = Texts()
            let connection = self.connection
            self.connection.attach(
                ServerConnection.Application(
                    onText: { payload in
                        texts.all.withLock { $0.append(String(buffer: payload)) }
                        if String(buffer: payload) == "close" { connection.requestClose(.policyViolation) }
                    },
                    onBinary: nil,
                    onClosed: { _ in }
                )
            )
            self.loop.run()
            return texts
        }

        /// A joined client whose socket stops taking data with one frame for it: the frame waits.
        func stallWithOneFrame() {
            _ = self.attach()
            self.channel.isWritable = false
            self.channel.pipeline.fireChannelWritabilityChanged()
            self.connection.send(ByteBuffer(string: "{}"))
            self.loop.run()
        }

        func advance(_ amount: TimeAmount) {
            self.loop.advanceTime(by: amount)
        }

        func frameFromClient(_ opcode: WebSocketOpcode, _ data: ByteBuffer) throws {
            try self.channel.writeInbound(WebSocketFrame(fin: true, opcode: opcode, data: data))
            self.loop.run()
        }

        static func closeCode(_ payload: ByteBuffer) -> UInt16? {
            payload.getInteger(at: payload.readerIndex, as: UInt16.self)
        }
    }

    static let configuration = ServerConfiguration(
        slowConsumerTimeout: .seconds(20),
        pingInterval: .seconds(30),
        pongTimeout: .seconds(10),
        closeTimeout: .seconds(5)
    )

    @Test func aClientThatAnswersEachPingStaysAndOneThatStopsIsDropped() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        fixture.advance(.seconds(29))
        #expect(fixture.wire.take().isEmpty, "no ping before the interval")
        fixture.advance(.seconds(1))
        let ping = try #require(fixture.wire.take().first)
        #expect(ping.opcode == 0x9)
        try fixture.frameFromClient(.pong, ping.payload)
        fixture.advance(.seconds(10))
        #expect(fixture.channel.isActive, "it answered in time")

        fixture.advance(.seconds(30))
        let second = try #require(fixture.wire.take().first)
        #expect(second.opcode == 0x9 && second.payload != ping.payload)
        fixture.advance(.seconds(9))
        #expect(fixture.channel.isActive)
        fixture.advance(.seconds(1))
        #expect(!fixture.channel.isActive, "no pong within the timeout: dropped without a close frame")
        #expect(fixture.wire.take().isEmpty)
    }

    @Test func aPongToAnEarlierPingDoesNotCountForTheLatest() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        fixture.advance(.seconds(30))
        _ = fixture.wire.take()
        try fixture.frameFromClient(.pong, ByteBuffer(string: "chat"))
        fixture.advance(.seconds(10))
        #expect(!fixture.channel.isActive)
    }

    @Test func aSocketThatTakesNothingForTheStallTimeoutIsClosedWith1008() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        fixture.stallWithOneFrame()
        fixture.advance(.seconds(19))
        #expect(fixture.wire.take().isEmpty, "the frame waits in the backlog")
        fixture.advance(.seconds(1))
        let close = try #require(fixture.wire.take().first)
        #expect(close.opcode == 0x8 && Fixture.closeCode(close.payload) == 1008)
        // It does not read, so it never answers: the close timeout ends the TCP connection.
        #expect(fixture.channel.isActive)
        fixture.advance(.seconds(5))
        #expect(!fixture.channel.isActive)
    }

    @Test func aSocketThatTakesSomethingInTimeIsKept() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        fixture.stallWithOneFrame()
        fixture.advance(.seconds(19))
        fixture.channel.isWritable = true
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        #expect(fixture.wire.take().map(\.opcode) == [0x1], "the backlog is written once the socket drains")
        fixture.advance(.seconds(20))
        #expect(fixture.channel.isActive)
        #expect(fixture.wire.take().allSatisfy { $0.opcode == 0x9 }, "only pings since")
    }

    @Test func ourCloseEndsTheConnectionWhenAnsweredOrAfterTheCloseTimeout() throws {
        let answered = try Fixture(Self.configuration)
        defer { _ = try? answered.channel.finish() }
        answered.connection.requestClose(.goingAway, reason: "bye")
        answered.loop.run()
        let close = try #require(answered.wire.take().first)
        #expect(close.opcode == 0x8 && Fixture.closeCode(close.payload) == 1001)
        var reply = ByteBuffer()
        reply.write(webSocketErrorCode: .goingAway)
        try answered.frameFromClient(.connectionClose, reply)
        #expect(!answered.channel.isActive, "the handshake is complete")

        let silent = try Fixture(Self.configuration)
        defer { _ = try? silent.channel.finish() }
        silent.connection.requestClose(.goingAway)
        silent.loop.run()
        silent.advance(.seconds(4))
        #expect(silent.channel.isActive)
        silent.advance(.seconds(1))
        #expect(!silent.channel.isActive)
    }

    @Test func theClientsCloseIsEchoedAndEndsTheConnection() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        var close = ByteBuffer()
        close.writeInteger(UInt16(1005))
        try fixture.frameFromClient(.connectionClose, close)
        let reply = try #require(fixture.wire.take().first)
        #expect(reply.opcode == 0x8 && Fixture.closeCode(reply.payload) == 1002, "1005 may not be sent: 1002")
        #expect(!fixture.channel.isActive)
    }

    @Test func framesBeforeTheApplicationAreHandedToItInOrderWithinTheBound() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        try fixture.frameFromClient(.text, ByteBuffer(string: "early"))
        try fixture.frameFromClient(.text, ByteBuffer(string: "bird"))
        let texts = fixture.attach()
        try fixture.frameFromClient(.text, ByteBuffer(string: "late"))
        #expect(texts.all.withLock { $0 } == ["early", "bird", "late"])

        let flooding = try Fixture(ServerConfiguration(maxFrameBytes: 8))
        defer { _ = try? flooding.channel.finish() }
        try flooding.frameFromClient(.text, ByteBuffer(string: "12345"))
        try flooding.frameFromClient(.text, ByteBuffer(string: "6789"))
        let close = try #require(flooding.wire.take().first)
        #expect(close.opcode == 0x8 && Fixture.closeCode(close.payload) == 1008)
    }

    @Test func aCloseAskedForWhileHandlingAFrameDiscardsTheFramesAfterIt() throws {
        let fixture = try Fixture(Self.configuration)
        defer { _ = try? fixture.channel.finish() }
        let texts = fixture.attach()
        try fixture.channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "close")))
        try fixture.channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "after")))
        fixture.loop.run()
        #expect(texts.all.withLock { $0 } == ["close"])
        let close = try #require(fixture.wire.take().first)
        #expect(close.opcode == 0x8 && Fixture.closeCode(close.payload) == 1008)
    }
}
