public import ChatProtocol

/// When the terminal bell rings.
public enum JoinBell: String, CaseIterable, Sendable {
    case mention, all, never

    /// Whether `frame` rings it: someone else's message (that names us or is a direct message to us,
    /// for `mention`).
    public func rings(for frame: ServerFrame, isOwn: Bool, mentionsUs: Bool) -> Bool {
        switch frame {
        case .message, .direct: break
        default: return false
        }
        guard !isOwn else { return false }
        switch self {
        case .mention: return mentionsUs
        case .all: return true
        case .never: return false
        }
    }
}
