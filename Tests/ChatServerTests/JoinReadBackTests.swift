import ChatProtocol
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import ChatServer

/// A resume decides what to read from the store before reading, and what to replay after: when the
/// history moves past the resume in between (a cluster node delivering a burst), the join must not
/// go ahead without the store (it would report a gap the store could fill), but read again.
struct JoinReadBackTests {
    let loop = EmbeddedEventLoop()

    func message(_ seq: UInt64) -> ChatMessage {
        ChatMessage(
            room: "lobby",
            seq: seq,
            id: "c-\(seq)",
            from: "bob",
            uid: "u-bob",
            text: "\(seq)",
            ts: Timestamp(millisecondsSince1970: 1_764_079_380_000 + Int64(seq))
        )
    }

    /// A cluster node's hub whose room `lobby` has messages 1…5 and keeps 3 in its history.
    func hub() -> (RoomHub, RoomHub.RoomBox) {
        var configuration = ServerConfiguration()
        configuration.historySize = 3
        let hub = RoomHub(configuration: configuration, log: CommittedElsewhereLog())
        let box = hub.install(
            RoomHub.LoadedRoom(name: "lobby", lastSeq: 5, messages: (3...5).map(self.message), members: [])
        )
        return (hub, box)
    }

    /// A connection on the embedded loop, and what it wrote.
    func connection() throws -> (ServerConnection, EmbeddedChannel) {
        let channel = EmbeddedChannel(loop: self.loop)
        let connection = ServerConnection(
            eventLoop: self.loop,
            queue: DeliveryQueue(eventLoop: self.loop),
            settings: ConnectionSettings(ServerConfiguration()),
            logger: Logger(label: "test"),
            budget: BacklogBudget(limit: .max, progressGrace: .seconds(1))
        )
        try channel.pipeline.syncOperations.addHandler(WireWriter(eventLoop: self.loop))
        try channel.pipeline.syncOperations.addHandler(connection)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (connection, channel)
    }

    /// The payloads written, as text (short unmasked frames: two header bytes, then the payload).
    func written(_ channel: EmbeddedChannel) throws -> [String] {
        self.loop.run()
        var texts: [String] = []
        while let frame = try channel.readOutbound(as: ByteBuffer.self) {
            let header = frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self)! & 0x7F == 126 ? 4 : 2
            texts.append(
                String(buffer: frame.getSlice(at: frame.readerIndex + header, length: frame.readableBytes - header)!)
            )
        }
        return texts
    }

    @Test func aResumeTheHistoryOutranWhileNothingWasReadIsReadAgain() throws {
        let (hub, box) = self.hub()
        let request = ConnectRequest(room: "lobby", name: "tailer", since: 2)
        // When it is asked, the history (3…5) still follows seq 2: nothing to read.
        #expect(hub.missing(for: request) == nil)
        // Then a burst is delivered: the history is 5…7, and 3 and 4 are only in the store.
        hub.deliver([6, 7].map(self.message), in: "lobby")
        let (connection, channel) = try self.connection()
        let claimed = (user: ChatUser(id: "u-tailer", name: "tailer"), box: box)

        #expect(hub.join(connection, request: request, claimed: claimed, readAgain: true) == nil)
        #expect(try self.written(channel).isEmpty, "nothing was sent")
        #expect(box.state.withLock { $0.joining } == 1, "the room is still held for the joiner")

        #expect(hub.missing(for: request) == .seqs(3...7))
        let earlier = (3...7).map { seq in
            Room.StoredMessage(message: self.message(seq), frame: ServerFrame.message(self.message(seq)).encode())
        }
        let joined = hub.join(connection, request: request, earlier: earlier, claimed: claimed, readAgain: true)
        #expect(joined?.user.name == "tailer")
        let frames = try self.written(channel)
        #expect(frames.first?.contains(#""recovered":true"#) == true, "\(frames)")
        #expect(frames.dropFirst().map { $0.contains(#""type":"message""#) } == Array(repeating: true, count: 5))
        #expect(box.state.withLock { $0.joining } == 0)
    }

    @Test func withoutReadingAgainTheClientIsToldWhatIsMissing() throws {
        let (hub, box) = self.hub()
        let request = ConnectRequest(room: "lobby", name: "tailer", since: 2)
        hub.deliver([6, 7].map(self.message), in: "lobby")
        let (connection, channel) = try self.connection()
        let claimed = (user: ChatUser(id: "u-tailer", name: "tailer"), box: box)
        #expect(hub.join(connection, request: request, claimed: claimed, readAgain: false) != nil)
        let frames = try self.written(channel)
        #expect(frames.first?.contains(#""recovered":false,"firstSeq":5"#) == true, "\(frames)")
    }
}

/// A log like a cluster's — its rooms take messages committed elsewhere (`deliver`), and it holds more
/// than their histories — with nothing behind it: what is under test is the hub's join, and the tests hand
/// it what a read would have found.
private struct CommittedElsewhereLog: RoomLog {
    var epoch: String { "test-epoch" }
    var confirmsPosts: Bool { false }
    var readsBack: Bool { true }
    var isBehind: Bool { false }
    var location: String { "nowhere" }

    func post(_ text: String, id: MessageID?, from user: ChatUser, in room: inout Room) -> LogPost { .pending }
    func canForget(_ state: RoomHub.RoomBox.State) -> Bool { state.connections.isEmpty }
    func ready(_ hub: RoomHub) async throws {}
    func run(_ hub: RoomHub) async {}
    func finish() {}

    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage] {
        []
    }

    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64? { nil }
    func roomList(_ hub: RoomHub) async -> RoomList? { nil }
    func describe(_ error: any Error) -> String { "\(error)" }
}
