import ChatProtocol
import Logging

/// Rooms kept in one SQLite file (`chat serve --store FILE`): a message has its seq at once but is acked,
/// broadcast and replayable only once the file has it, written in batches by one `StoreWriter`.
final class FileLog: RoomLog {
    let store: MessageStore
    let writer: StoreWriter<PersistedMessage>
    let logger: Logger
    /// How many of each room's newest messages to load at start: the history, and the ids to de-duplicate.
    private let newest: Int

    init(store: MessageStore, configuration: ServerConfiguration, logger: Logger) {
        self.store = store
        self.writer = StoreWriter(backlogLimit: configuration.storeBacklog)
        self.logger = logger
        self.newest = max(configuration.historySize, configuration.dedupWindow)
    }

    var epoch: String { self.store.epoch }
    var confirmsPosts: Bool { true }
    var readsBack: Bool { true }
    var isBehind: Bool { self.writer.isBehind }
    var location: String { self.store.path }

    func post(_ text: String, id: MessageID?, from user: ChatUser, in room: inout Room) -> LogPost {
        // Queued under the room's lock, so the file receives each room's messages in seq order.
        self.post(text, id: id, from: user, in: &room) { pending in
            self.writer.enqueue(PersistedMessage(message: pending.stored.message, clientID: pending.clientID))
        }
    }

    /// Brings back the rooms the file kept, before the first client joins.
    func ready(_ hub: RoomHub) async throws {
        let rooms = try await self.store.load(newest: self.newest)
        hub.restore(rooms)
        self.logger.info(
            "store loaded",
            metadata: [
                "chat.store": "\(self.store.path)", "chat.rooms": "\(rooms.count)",
                "chat.messages": "\(rooms.reduce(0) { $0 + $1.lastSeq })",
            ]
        )
    }

    func run(_ hub: RoomHub) async {
        await self.writer.run(
            store: self.store.path,
            logger: self.logger,
            describe: MessageStore.describe,
            write: self.store.append
        ) { batch, _ in hub.confirm(batch) }
    }

    func finish() {
        self.writer.finish()
    }

    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage] {
        try await self.store.messages(room: room, seqs: seqs, maxBytes: maxBytes)
    }

    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64? {
        try await self.store.firstSeq(room: room, atOrAfter: time)
    }

    /// Every room the server has: a room with messages is kept for good, so the hub's rooms are the file's.
    func roomList(_ hub: RoomHub) async -> RoomList? { hub.roomList }

    func describe(_ error: any Error) -> String { MessageStore.describe(error) }
}
