import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import ChatCore

/// The fan-out path on one event loop: frames in order, one flush per connection per tick, and the
/// bounded backlog of a connection whose socket stopped taking data.
struct DeliveryQueueTests {
    /// Counts what reaches the head of the pipeline.
    final class SocketProbe: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        var writes: [ByteBuffer] = []
        var flushes = 0

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            self.writes.append(self.unwrapOutboundIn(data))
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            self.flushes += 1
            context.flush()
        }
    }

    private struct Fixture {
        let loop: EmbeddedEventLoop
        let queue: DeliveryQueue
        let channel: EmbeddedChannel
        let probe: SocketProbe
        let connection: ServerConnection
    }

    private func fixture(_ configuration: ServerConfiguration = ServerConfiguration()) throws -> Fixture {
        let loop = EmbeddedEventLoop()
        let queue = DeliveryQueue(eventLoop: loop)
        let channel = EmbeddedChannel(loop: loop)
        let probe = SocketProbe()
        let connection = ServerConnection(
            eventLoop: loop,
            queue: queue,
            configuration: configuration,
            logger: Logger(label: "test")
        )
        try channel.pipeline.syncOperations.addHandler(probe)
        try channel.pipeline.syncOperations.addHandler(WireWriter(eventLoop: loop))
        try channel.pipeline.syncOperations.addHandler(connection)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return Fixture(loop: loop, queue: queue, channel: channel, probe: probe, connection: connection)
    }

    private static func text(_ frame: ByteBuffer) -> String {
        // A short unmasked text frame: two header bytes, then the payload.
        String(buffer: frame.getSlice(at: frame.readerIndex + 2, length: frame.readableBytes - 2)!)
    }

    @Test func framesGivenTogetherLeaveInOrderWithOneFlushPerConnection() throws {
        let first = try self.fixture()
        let second = try self.fixture()
        // Both connections on one loop would share its queue; here each has its own, as two loops would.
        for index in 1...3 {
            first.queue.deliver(WireFrame.encode(ByteBuffer(string: "m\(index)")), to: .all([first.connection]))
        }
        first.connection.send(ByteBuffer(string: "ack"))
        #expect(first.probe.writes.isEmpty)  // nothing before the loop's tick
        first.loop.run()
        #expect(first.probe.writes.map(Self.text) == ["m1", "m2", "m3", "ack"])
        #expect(first.probe.flushes == 1)
        #expect(second.probe.writes.isEmpty)

        // The next tick is flushed on its own.
        first.connection.send(ByteBuffer(string: "later"))
        first.loop.run()
        #expect(first.probe.writes.map(Self.text).last == "later")
        #expect(first.probe.flushes == 2)
    }

    @Test func oneBroadcastBufferIsSharedByEveryRecipient() throws {
        let fixture = try self.fixture()
        let other = ServerConnection(
            eventLoop: fixture.loop,
            queue: fixture.queue,
            configuration: ServerConfiguration(),
            logger: Logger(label: "test")
        )
        let otherChannel = EmbeddedChannel(loop: fixture.loop)
        let otherProbe = SocketProbe()
        try otherChannel.pipeline.syncOperations.addHandler(otherProbe)
        try otherChannel.pipeline.syncOperations.addHandler(WireWriter(eventLoop: fixture.loop))
        try otherChannel.pipeline.syncOperations.addHandler(other)
        try otherChannel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        let frame = WireFrame.encode(ByteBuffer(string: "hello"))
        fixture.queue.deliver(frame, to: .all([fixture.connection, other]))
        fixture.loop.run()
        let written = try #require(fixture.probe.writes.first)
        let otherWritten = try #require(otherProbe.writes.first)
        // The same storage, not a copy per recipient.
        written.withUnsafeReadableBytes { mine in
            otherWritten.withUnsafeReadableBytes { theirs in #expect(mine.baseAddress == theirs.baseAddress) }
        }
        #expect(fixture.probe.flushes == 1 && otherProbe.flushes == 1)
    }

    @Test func anUnwritableSocketKeepsFramesUntilItDrainsThenPassesTheBoundAndIsClosed() throws {
        var configuration = ServerConfiguration()
        configuration.outboundQueueBytes = 100
        let fixture = try self.fixture(configuration)
        fixture.channel.isWritable = false
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        for index in 1...3 { fixture.connection.send(ByteBuffer(string: "queued \(index)")) }
        fixture.loop.run()
        #expect(fixture.probe.writes.isEmpty)

        // Writable again: the backlog goes out in order.
        fixture.channel.isWritable = true
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        #expect(fixture.probe.writes.map(Self.text) == ["queued 1", "queued 2", "queued 3"])

        // Stuck again, and more than 100 bytes pile up: the client is closed with 1008.
        fixture.channel.isWritable = false
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        for _ in 1...10 { fixture.connection.send(ByteBuffer(string: String(repeating: "x", count: 20))) }
        fixture.loop.run()
        let close = try #require(fixture.probe.writes.last)
        #expect(close.getInteger(at: close.readerIndex, as: UInt8.self) == 0x88)
        #expect(close.getInteger(at: close.readerIndex + 2, as: UInt16.self) == 1008)
        #expect(fixture.probe.writes.count == 4)
    }
}
