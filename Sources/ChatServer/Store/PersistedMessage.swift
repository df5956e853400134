import ChatProtocol

/// A message as the store keeps it.
struct PersistedMessage: Sendable, Hashable {
    var message: ChatMessage
    /// Whether the id came from the client, so a resend of it must be recognised after a restart too.
    var clientID: Bool

    init(message: ChatMessage, clientID: Bool) {
        self.message = message
        self.clientID = clientID
    }
}

/// What a store gives back for one room when the server starts.
struct StoredRoom: Sendable, Equatable {
    var name: RoomName
    /// The room's last seq: the next message gets the one after it.
    var lastSeq: UInt64
    /// The newest messages (enough for the history and the de-duplication window), oldest first.
    var messages: [PersistedMessage]
}
