import ChatProtocol

/// A message posted on this node, waiting for PostgreSQL to give it a seq.
struct ClusterPost: Sendable {
    var room: RoomName
    /// The client's id, or one the server made: every message has one, so a retried write finds it.
    var id: MessageID
    var clientID: Bool
    var from: String
    var uid: UserID
    var text: String
    var ts: Timestamp
}
