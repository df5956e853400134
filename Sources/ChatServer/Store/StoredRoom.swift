import ChatProtocol

/// What a store gives back for one room when the server starts.
struct StoredRoom: Sendable, Equatable {
    var name: RoomName
    /// The room's last seq: the next message gets the one after it.
    var lastSeq: UInt64
    /// The newest messages (enough for the history and the de-duplication window), oldest first.
    var messages: [PersistedMessage]
}
