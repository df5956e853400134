import ChatProtocol
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import ChatServer

/// The fan-out path on one event loop: frames in order, one flush per connection per tick, and the
/// bounded backlog of a connection whose socket stopped taking data.
struct DeliveryQueueTests {
    /// Counts what reaches the head of the pipeline; with `writableFor`, the socket fills up again after
    /// that many more frames (a client that reads a little).
    final class SocketProbe: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        var writes: [ByteBuffer] = []
        var flushes = 0
        var writableFor: Int?

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            self.writes.append(self.unwrapOutboundIn(data))
            if let left = self.writableFor {
                self.writableFor = left - 1
                if left <= 1, let channel = context.channel as? EmbeddedChannel {
                    channel.isWritable = false
                    self.writableFor = nil
                }
            }
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
        let budget: BacklogBudget
    }

    private func fixture(
        _ configuration: ServerConfiguration = ServerConfiguration(),
        loop: EmbeddedEventLoop = EmbeddedEventLoop(),
        budget: BacklogBudget = BacklogBudget(limit: .max, progressGrace: .seconds(1))
    ) throws -> Fixture {
        let queue = DeliveryQueue(eventLoop: loop)
        let channel = EmbeddedChannel(loop: loop)
        let probe = SocketProbe()
        let connection = ServerConnection(
            eventLoop: loop,
            queue: queue,
            settings: ConnectionSettings(configuration),
            logger: Logger(label: "test"),
            budget: budget
        )
        try channel.pipeline.syncOperations.addHandler(probe)
        try channel.pipeline.syncOperations.addHandler(WireWriter(eventLoop: loop))
        try channel.pipeline.syncOperations.addHandler(connection)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return Fixture(loop: loop, queue: queue, channel: channel, probe: probe, connection: connection, budget: budget)
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
            settings: ConnectionSettings(ServerConfiguration()),
            logger: Logger(label: "test"),
            budget: fixture.budget
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

    @Test func anUnwritableSocketKeepsFramesUntilItDrainsInOrder() throws {
        let fixture = try self.fixture()
        fixture.channel.isWritable = false
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        for index in 1...3 { fixture.connection.send(ByteBuffer(string: "queued \(index)")) }
        fixture.loop.run()
        #expect(fixture.probe.writes.isEmpty)
        #expect(
            fixture.budget.usedBytes == 3 * OutboundBacklog.cost(of: WireFrame.encode(ByteBuffer(string: "queued 1")))
        )

        // Writable again: the backlog goes out in order, and the budget has it back.
        fixture.channel.isWritable = true
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        #expect(fixture.probe.writes.map(Self.text) == ["queued 1", "queued 2", "queued 3"])
        #expect(fixture.budget.usedBytes == 0)
    }

    @Test func aFrameCostsTheStorageItPinsNotItsReadableBytes() {
        // NIO rounds allocations up to a power of two: 1,100 bytes of frame keep 2 KiB alive.
        let frame = WireFrame.encode(ByteBuffer(string: String(repeating: "x", count: 1096)))
        #expect(frame.readableBytes == 1100)
        #expect(OutboundBacklog.cost(of: frame) == 2048 + MemoryLayout<ByteBuffer?>.stride)
    }

    /// A connection whose backlog bound is a few small frames, and a record of its behind/caught-up calls.
    private func behindFixture(
        grace: Duration = .seconds(1),
        timeout: Duration = .seconds(15)
    ) throws -> (Fixture, Recorder) {
        var configuration = ServerConfiguration()
        configuration.maxClientBacklog = 4 * OutboundBacklog.cost(of: WireFrame.encode(ByteBuffer(string: "m")))
        configuration.slowReaderGrace = grace
        configuration.slowConsumerTimeout = timeout
        let fixture = try self.fixture(configuration)
        let recorder = Recorder()
        fixture.connection.attach(
            ServerConnection.Application(
                onText: { _ in },
                onClosed: { _ in },
                onBehind: { recorder.record($0) }
            )
        )
        fixture.loop.run()
        fixture.channel.isWritable = false
        fixture.channel.pipeline.fireChannelWritabilityChanged()
        return (fixture, recorder)
    }

    private static func sentClose(_ probe: SocketProbe) -> UInt16? {
        guard let last = probe.writes.last, last.getInteger(at: last.readerIndex, as: UInt8.self) == 0x88 else {
            return nil
        }
        return last.getInteger(at: last.readerIndex + 2, as: UInt16.self)
    }

    @Test func pastItsBoundAClientIsBehindAndClosedOnceItReadsNothingForTheGrace() throws {
        let (fixture, recorder) = try self.behindFixture(grace: .seconds(1))
        for _ in 1...5 { fixture.connection.send(ByteBuffer(string: "m")) }
        fixture.loop.run()
        #expect(recorder.calls == [true])
        fixture.loop.advanceTime(by: .milliseconds(999))
        #expect(Self.sentClose(fixture.probe) == nil)
        fixture.loop.advanceTime(by: .milliseconds(1))
        #expect(Self.sentClose(fixture.probe) == 1008)
        // Its frames were dropped with it: nothing stays pinned, and the room stops waiting.
        #expect(fixture.budget.usedBytes == 0)
        #expect(recorder.calls == [true, false])
    }

    @Test func aClientBehindThatKeepsReadingIsNeverClosedAndCatchesUp() throws {
        let (fixture, recorder) = try self.behindFixture(grace: .seconds(1))
        for _ in 1...8 { fixture.connection.send(ByteBuffer(string: "m")) }
        fixture.loop.run()
        #expect(recorder.calls == [true])
        // It reads a frame every 600 ms — slower than the grace would allow a stall, never a stall that long.
        fixture.probe.writableFor = 1
        for _ in 1...3 {
            fixture.loop.advanceTime(by: .milliseconds(600))
            fixture.probe.writableFor = 1
            fixture.channel.isWritable = true
            fixture.channel.pipeline.fireChannelWritabilityChanged()
        }
        #expect(Self.sentClose(fixture.probe) == nil)
        // Three frames out, five left: still over half the bound (two frames). Two more reads catch it up.
        #expect(recorder.calls == [true])
        for _ in 1...3 {
            fixture.loop.advanceTime(by: .milliseconds(600))
            fixture.probe.writableFor = 1
            fixture.channel.isWritable = true
            fixture.channel.pipeline.fireChannelWritabilityChanged()
        }
        #expect(recorder.calls == [true, false])
        fixture.loop.advanceTime(by: .seconds(5))
        #expect(Self.sentClose(fixture.probe) == nil)
    }

    @Test func aClientThatStaysBehindPastTheTimeoutIsClosedHoweverItReads() throws {
        let (fixture, _) = try self.behindFixture(grace: .seconds(1), timeout: .seconds(3))
        for _ in 1...5 { fixture.connection.send(ByteBuffer(string: "m")) }
        fixture.loop.run()
        // A trickle: one frame read per 500 ms while one more arrives — it never catches up.
        for _ in 1...5 {
            fixture.loop.advanceTime(by: .milliseconds(500))
            fixture.connection.send(ByteBuffer(string: "m"))
            fixture.loop.run()
            fixture.probe.writableFor = 1
            fixture.channel.isWritable = true
            fixture.channel.pipeline.fireChannelWritabilityChanged()
        }
        #expect(Self.sentClose(fixture.probe) == nil)
        fixture.loop.advanceTime(by: .milliseconds(500))
        #expect(Self.sentClose(fixture.probe) == 1008)
    }

    @Test func framesReadWhileTheRoomWaitsAreHandledInOrderOnceItResumes() throws {
        let fixture = try self.fixture()
        let handled = TextRecorder()
        let connection = fixture.connection
        fixture.connection.attach(
            ServerConnection.Application(
                onText: { payload in
                    handled.record(String(buffer: payload))
                    // As ServerSession does when a member of the room is behind.
                    if handled.texts.count == 1 { connection.pauseReading() }
                },
                onClosed: { _ in }
            )
        )
        fixture.loop.run()
        for text in ["one", "two", "three"] {
            try fixture.channel.writeInbound(
                WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
            )
        }
        // The rest of the read waits: handling it would post past the member's bound. (Reading itself stops
        // through autoRead, which EmbeddedChannel does not model; SlowReaderTests sees it on a socket.)
        #expect(handled.texts == ["one"])
        // A ping is answered even so.
        try fixture.channel.writeInbound(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "p")))
        fixture.loop.run()
        #expect(fixture.probe.writes.last?.getInteger(at: 0, as: UInt8.self) == 0x8A)
        fixture.connection.resumeReading()
        fixture.loop.run()
        #expect(handled.texts == ["one", "two", "three"])
    }

    @Test func aSpentBudgetClosesTheLargestBacklogOfAClientThatStoppedReadingNotAReader() throws {
        var configuration = ServerConfiguration()
        configuration.slowReaderGrace = .seconds(1)
        let cost = OutboundBacklog.cost(of: WireFrame.encode(ByteBuffer(string: "m")))
        let loop = EmbeddedEventLoop()
        let budget = BacklogBudget(limit: 25 * cost, progressGrace: .seconds(1))
        let small = try self.fixture(configuration, loop: loop, budget: budget)
        let large = try self.fixture(configuration, loop: loop, budget: budget)
        let reader = try self.fixture(configuration, loop: loop, budget: budget)
        for fixture in [small, large, reader] {
            fixture.channel.isWritable = false
            fixture.channel.pipeline.fireChannelWritabilityChanged()
        }
        for _ in 1...5 { small.connection.send(ByteBuffer(string: "m")) }
        for _ in 1...10 { large.connection.send(ByteBuffer(string: "m")) }
        loop.run()
        loop.advanceTime(by: .seconds(1))
        // The reader has the largest backlog but its socket took data just now.
        reader.channel.isWritable = true
        reader.probe.writableFor = 0
        reader.channel.pipeline.fireChannelWritabilityChanged()
        for _ in 1...12 { reader.connection.send(ByteBuffer(string: "m")) }
        loop.run()
        #expect(Self.sentClose(large.probe) == 1008)
        #expect(Self.sentClose(small.probe) == nil)
        #expect(Self.sentClose(reader.probe) == nil)
        #expect(budget.usedBytes == 16 * cost)
    }
}

/// The texts a connection handed to its application, in order.
private final class TextRecorder: @unchecked Sendable {
    // Touched only on the embedded loop's thread (the test's).
    private(set) var texts: [String] = []

    func record(_ text: String) {
        self.texts.append(text)
    }
}

/// What a connection told its room, in order.
private final class Recorder: @unchecked Sendable {
    // Touched only on the embedded loop's thread (the test's).
    private(set) var calls: [Bool] = []

    func record(_ behind: Bool) {
        self.calls.append(behind)
    }
}
