public import ChatProtocol

/// A message as the store keeps it.
public struct PersistedMessage: Sendable, Hashable {
    public var message: ChatMessage
    /// Whether the id came from the client, so a resend of it must be recognised after a restart too.
    public var clientID: Bool

    public init(message: ChatMessage, clientID: Bool) {
        self.message = message
        self.clientID = clientID
    }
}

/// What a store gives back for one room when the server starts.
public struct StoredRoom: Sendable, Equatable {
    public var name: String
    /// The room's last seq: the next message gets the one after it.
    public var lastSeq: UInt64
    /// The newest messages (enough for the history and the de-duplication window), oldest first.
    public var messages: [PersistedMessage]
}
