/// A message from one member of a room to another: it goes to the addressee and back to its sender only,
/// has no seq and is never kept (PROTOCOL.md, "direct").
public struct DirectMessage: Sendable, Hashable, Codable {
    /// The room both members are in.
    public var room: RoomName
    /// The sender's id for the message, or one the server made up.
    public var id: MessageID
    /// The sender's name at the time and its user id.
    public var from: String
    public var uid: UserID
    /// The addressee's name at the time and its user id.
    public var to: String
    public var toUid: UserID
    /// The text, exactly as sent.
    public var text: String
    /// When the server accepted it.
    public var ts: Timestamp

    /// Creates a direct message.
    public init(
        room: RoomName,
        id: MessageID,
        from: String,
        uid: UserID,
        to: String,
        toUid: UserID,
        text: String,
        ts: Timestamp
    ) {
        self.room = room
        self.id = id
        self.from = from
        self.uid = uid
        self.to = to
        self.toUid = toUid
        self.text = text
        self.ts = ts
    }
}
