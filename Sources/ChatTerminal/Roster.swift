public import ChatProtocol

/// Who is in the room, kept current from the welcome and the join/leave/nick events (for `/who` and Tab).
public struct Roster: Sendable, Equatable {
    public private(set) var members: [ChatUser] = []

    public init() {}

    /// Starts over from a (re)connection's welcome.
    public mutating func reset(_ welcome: Welcome) {
        self.members = welcome.users
    }

    public mutating func apply(_ frame: ServerFrame) {
        switch frame {
        case .join(let event):
            self.members.removeAll { $0.id == event.user.id }
            self.members.append(event.user)
        case .leave(let event):
            self.members.removeAll { $0.id == event.user.id }
        case .nick(let event):
            if let index = self.members.firstIndex(where: { $0.id == event.user.id }) {
                self.members[index] = event.user
            }
        case .welcome, .message, .direct, .typing, .ack, .error:
            break
        }
    }

    public var names: [String] { self.members.map(\.name) }

    /// Tab candidates: commands at the start of a line, else member names, matching `word` case-insensitively.
    public func completions(for word: String, startsLine: Bool) -> [String] {
        if startsLine, word.hasPrefix("/") {
            return InputCommand.names.filter { $0.hasPrefix(word.lowercased()) }
        }
        let prefix = word.lowercased()
        return self.names.filter { $0.lowercased().hasPrefix(prefix) }.sorted()
    }
}
