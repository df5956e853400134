import ChatProtocol

/// A stored row that cannot be read back as the message it was (never written by this server: the
/// database or file was changed by hand).
struct UnreadableRow: Error, CustomStringConvertible {
    var description: String
}

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
    ) throws(UnreadableRow) {
        guard let timestamp = Timestamp(rfc3339: ts) else {
            throw UnreadableRow(description: "message \(seq) of room \(room) has an unreadable time '\(ts)'")
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
    init(stored name: String) throws(UnreadableRow) {
        guard let room = RoomName(name) else { throw UnreadableRow(description: "'\(name)' is not a room name") }
        self = room
    }
}
