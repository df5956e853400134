import ChatProtocol

extension ChatMessage {
    /// A message as the stores keep it — the wire's strings — checked on the way out.
    init(
        room: RoomName,
        seq: Int64,
        id: String,
        from: String,
        uid: String,
        text: String,
        storedTimestamp ts: String
    ) throws(ChatServerError) {
        guard let timestamp = Timestamp(rfc3339: ts) else {
            throw .unreadableRow("message \(seq) of room \(room) has the time '\(ts)'")
        }
        self.init(
            room: room,
            seq: UInt64(seq),
            id: MessageID(id),
            from: from,
            uid: UserID(uid),
            text: text,
            ts: timestamp
        )
    }
}

extension RoomName {
    /// A room name as a store row holds it.
    init(stored name: String) throws(ChatServerError) {
        guard let room = RoomName(name) else { throw .unreadableRow("'\(name)' is not a room name") }
        self = room
    }
}
