import ChatProtocol

/// Rooms in memory only (`chat serve` without `--store`): a message is visible as soon as it has its seq,
/// and what a room's history let go is gone.
struct MemoryLog: RoomLog {
    let epoch: String

    /// A new seq space, so a client resuming from an earlier run is told it cannot be recovered.
    init(epoch: String = RandomID.make(length: 12)) {
        self.epoch = epoch
    }

    var confirmsPosts: Bool { false }
    var readsBack: Bool { false }
    var isBehind: Bool { false }
    var location: String { "memory" }

    func post(_ text: String, id: MessageID?, from user: ChatUser, in room: inout Room) -> LogPost {
        // A room that confirms nothing makes every message visible at once: nothing is ever queued.
        self.post(text, id: id, from: user, in: &room, queue: { _ in })
    }

    func ready(_ hub: RoomHub) async throws {}
    func run(_ hub: RoomHub) async {}
    func finish() {}

    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage] {
        []
    }

    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64? { nil }

    func roomList(_ hub: RoomHub) async -> RoomList? { hub.roomList }

    func describe(_ error: any Error) -> String { "\(error)" }
}
