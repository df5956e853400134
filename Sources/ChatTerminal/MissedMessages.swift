public import ChatProtocol

/// `tail --strict` met a gap the server could not fill.
public struct MissedMessages: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }

    /// What `tail` and `join` say about messages after `since` that the server could not replay.
    public static func describe(since: UInt64, firstSeq: UInt64?, epochChanged: Bool) -> String {
        if epochChanged {
            return "the server restarted and lost its history: messages after seq \(since) may be missing"
        }
        let first = firstSeq.map { "\($0)" } ?? "?"
        return
            "cannot resume after seq \(since): the server's history starts at seq \(first); messages before it are missing"
    }

    /// What `tail` says when the server no longer has everything said from `since` on.
    public static func describe(since: Timestamp, firstSeq: UInt64?) -> String {
        let first = firstSeq.map { "seq \($0)" } ?? "now"
        return "the server no longer has every message since \(since.rfc3339): replaying from \(first) on"
    }
}
