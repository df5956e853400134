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
