import ChatProtocol

/// What someone said, whichever way: a room's message or a direct one — what `tail` and `send --expect`
/// print, match and count alike.
struct Said {
    var room: RoomName
    var id: MessageID
    var text: String
    /// The room's seq; nil for a direct message, which has none to resume from.
    var seq: UInt64?
    /// The addressee of a direct message.
    var to: String?

    /// The message `frame` carries, if it carries one.
    init?(_ frame: ServerFrame) {
        switch frame {
        case .message(let message):
            self.init(room: message.room, id: message.id, text: message.text, seq: message.seq, to: nil)
        case .direct(let direct):
            self.init(room: direct.room, id: direct.id, text: direct.text, seq: nil, to: direct.to)
        default:
            return nil
        }
    }

    private init(room: RoomName, id: MessageID, text: String, seq: UInt64?, to: String?) {
        self.room = room
        self.id = id
        self.text = text
        self.seq = seq
        self.to = to
    }
}
