import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import ChatServer

/// An accepted connection's pipeline on an `EmbeddedEventLoop`: the handshake timeout without real time.
struct PipelineTests {
    struct Fixture {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel

        init(_ configuration: ServerConfiguration) throws {
            self.channel = EmbeddedChannel(loop: self.loop)
            _ = try ChatServer.configurePipeline(
                self.channel,
                configuration: configuration,
                queue: DeliveryQueue(eventLoop: self.loop),
                budget: BacklogBudget(limit: .max, progressGrace: .seconds(1)),
                settings: ConnectionSettings(configuration),
                logger: Logger(label: "test"),
                hub: RoomHub(configuration: configuration)
            )
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }
    }

    /// Idle, or trickling a head that never ends: either way the connection is closed once the timeout
    /// passes, and not a moment before.
    @Test(arguments: ["", "GET /ws HTTP/1.1\r\nHost: x\r\n"])
    func aRequestHeadThatNeverEndsIsClosedWhenTheHandshakeTimeoutPasses(_ sent: String) throws {
        let fixture = try Fixture(ServerConfiguration(handshakeTimeout: .seconds(10)))
        try fixture.channel.writeInbound(ByteBuffer(string: sent))
        fixture.loop.advanceTime(by: .seconds(9))
        #expect(fixture.channel.isActive)
        fixture.loop.advanceTime(by: .seconds(1))
        #expect(!fixture.channel.isActive)
    }

    /// A whole head stops the clock: what follows (an answer, a WebSocket) has timeouts of its own.
    @Test(arguments: ["GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"])
    func aCompleteRequestHeadStopsTheHandshakeClock(_ sent: String) throws {
        let fixture = try Fixture(ServerConfiguration(handshakeTimeout: .seconds(10)))
        try fixture.channel.writeInbound(ByteBuffer(string: sent))
        fixture.loop.advanceTime(by: .seconds(60))
        #expect(fixture.channel.isActive)
        _ = try? fixture.channel.finish()
    }
}
