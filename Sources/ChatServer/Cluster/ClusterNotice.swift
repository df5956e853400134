import ChatProtocol

/// What one node tells the others on the `chat` channel — never a message's text, only where to look
/// (or who is typing).
///
/// Fields are separated by newlines, which neither room names nor user names may contain, so nothing
/// needs escaping; the longest payload (a nick) is a few hundred bytes, far under NOTIFY's 8000.
enum ClusterNotice: Sendable, Equatable {
    /// `room` has committed messages up to `lastSeq` (written by `node`).
    case message(room: RoomName, lastSeq: UInt64, node: Int32)
    /// A member joined `room` on `node`.
    case join(room: RoomName, node: Int32, user: ChatUser)
    /// A member left `room` (or its node died and another node removed it).
    case leave(room: RoomName, node: Int32, user: ChatUser)
    /// A member of `room` changed its name.
    case nick(room: RoomName, node: Int32, user: ChatUser, previousName: String)
    /// A member of `room` on `node` is typing.
    case typing(room: RoomName, node: Int32, user: ChatUser)
    /// `chat_directs` has rows for the members of `toNode` (written by `node`).
    case direct(toNode: Int32, node: Int32)

    var payload: String {
        switch self {
        case .message(let room, let lastSeq, let node):
            ["m", "\(node)", "\(lastSeq)", room.rawValue].joined(separator: "\n")
        case .join(let room, let node, let user):
            ["j", "\(node)", room.rawValue, user.id.rawValue, user.name].joined(separator: "\n")
        case .leave(let room, let node, let user):
            ["l", "\(node)", room.rawValue, user.id.rawValue, user.name].joined(separator: "\n")
        case .nick(let room, let node, let user, let previous):
            ["n", "\(node)", room.rawValue, user.id.rawValue, user.name, previous].joined(separator: "\n")
        case .typing(let room, let node, let user):
            ["t", "\(node)", room.rawValue, user.id.rawValue, user.name].joined(separator: "\n")
        case .direct(let toNode, let node):
            ["d", "\(node)", "\(toNode)"].joined(separator: "\n")
        }
    }

    /// The notice in `payload`, or nil for one this version does not know.
    init?(payload: String) {
        let fields = payload.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 3, let node = Int32(fields[1]) else { return nil }
        switch (fields[0], fields.count) {
        case ("d", 3):
            guard let toNode = Int32(fields[2]) else { return nil }
            self = .direct(toNode: toNode, node: node)
        case ("m", 4):
            guard let seq = UInt64(fields[2]), let room = RoomName(fields[3]) else { return nil }
            self = .message(room: room, lastSeq: seq, node: node)
        case ("j", 5), ("l", 5), ("n", 6), ("t", 5):
            guard let room = RoomName(fields[2]) else { return nil }
            let user = ChatUser(id: UserID(fields[3]), name: fields[4])
            switch fields[0] {
            case "j": self = .join(room: room, node: node, user: user)
            case "l": self = .leave(room: room, node: node, user: user)
            case "t": self = .typing(room: room, node: node, user: user)
            default: self = .nick(room: room, node: node, user: user, previousName: fields[5])
            }
        default: return nil
        }
    }

    /// The node the notice came from.
    var node: Int32 {
        switch self {
        case .message(_, _, let node), .join(_, let node, _), .leave(_, let node, _), .nick(_, let node, _, _),
            .typing(_, let node, _), .direct(_, let node):
            node
        }
    }
}
