public import NIOCore

/// One room's state as a value: members in order of joining, the seq counter and the history ring.
///
/// It does no I/O and reads no clock (timestamps are passed in), so tests can step it event by event.
/// Messages are kept encoded as well, so replaying history to a joiner costs no encoding.
public struct Room: Sendable {
    /// A message in the history, with its encoded frame.
    public struct StoredMessage: Sendable {
        public var message: ChatMessage
        public var frame: ByteBuffer
    }

    /// What posting a message did.
    public enum PostResult: Sendable {
        /// The message is new: it got the next seq and went into the history.
        case posted(StoredMessage)
        /// A message with this id was accepted before (a resend after a reconnect): it keeps its seq.
        case duplicate(seq: UInt64)

        /// The seq the message has.
        public var seq: UInt64 {
            switch self {
            case .posted(let stored): stored.message.seq
            case .duplicate(let seq): seq
            }
        }
    }

    /// What a client gets replayed when it joins.
    public struct Replay: Sendable {
        /// The encoded messages to send, oldest first.
        public var frames: [ByteBuffer]
        /// Set when the client asked to resume: whether every message after its `since` is included.
        public var recovered: Bool?
        /// With `recovered == false`, the first seq still in history.
        public var firstSeq: UInt64?
    }

    /// The room's name.
    public let name: String
    /// The members, in order of joining.
    public private(set) var members: [ChatUser] = []
    /// The latest seq given out (0 before the first message).
    public private(set) var lastSeq: UInt64 = 0
    /// How many messages the history keeps.
    public let historyLimit: Int
    /// How many client message ids are remembered for de-duplication.
    public let dedupWindow: Int
    private var history: CircularBuffer<StoredMessage>
    private var acceptedIDs: [String: UInt64] = [:]
    private var acceptedOrder: CircularBuffer<String>

    /// Creates an empty room.
    public init(name: String, historyLimit: Int, dedupWindow: Int = 10_000) {
        self.name = name
        self.historyLimit = max(0, historyLimit)
        self.dedupWindow = max(0, dedupWindow)
        self.history = CircularBuffer(initialCapacity: min(max(self.historyLimit, 1), 1024))
        self.acceptedOrder = CircularBuffer(initialCapacity: min(max(self.dedupWindow, 1), 1024))
    }

    /// The messages the history still holds.
    public var historyCount: Int { self.history.count }

    /// The oldest seq still in history (`lastSeq + 1` when the history is empty).
    public var firstSeq: UInt64 { self.history.first?.message.seq ?? self.lastSeq + 1 }

    /// Whether the room can be forgotten: nobody in it and nothing to replay.
    public var isDisposable: Bool { self.members.isEmpty && self.history.isEmpty && self.acceptedOrder.isEmpty }

    /// Adds a member; a name someone already has (case-insensitively) gets a `-2`, `-3`, … suffix.
    public mutating func join(id: String, requestedName: String) -> ChatUser {
        let user = ChatUser(id: id, name: UserName.unique(requestedName, taken: self.members.map(\.name)))
        self.members.append(user)
        return user
    }

    /// Removes a member; nil when `id` is not in the room.
    public mutating func leave(id: String) -> ChatUser? {
        guard let index = self.members.firstIndex(where: { $0.id == id }) else { return nil }
        return self.members.remove(at: index)
    }

    /// Renames a member (made unique like a join); nil when `id` is not in the room or the name is unchanged.
    public mutating func rename(id: String, to requestedName: String) -> (user: ChatUser, previousName: String)? {
        guard let index = self.members.firstIndex(where: { $0.id == id }) else { return nil }
        let previousName = self.members[index].name
        guard requestedName != previousName else { return nil }
        var others = self.members.map(\.name)
        others.remove(at: index)
        // Changing only the case of one's own name is allowed: the others are what must not clash.
        self.members[index].name = UserName.unique(requestedName, taken: others)
        return (self.members[index], previousName)
    }

    /// Gives a message the next seq, stores it in the history and returns it with its encoded frame — unless
    /// a message with the same client `id` was accepted within the last `dedupWindow` ids, which keeps its seq.
    /// - Parameter id: The sender's id for the message; nil makes the server pick one (never de-duplicated).
    public mutating func post(from user: ChatUser, id: String?, text: String, at timestamp: Timestamp) -> PostResult {
        if let id, let seq = self.acceptedIDs[id] {
            return .duplicate(seq: seq)
        }
        self.lastSeq += 1
        let message = ChatMessage(
            room: self.name,
            seq: self.lastSeq,
            id: id ?? RandomID.make(prefix: "s-", length: 12),
            from: user.name,
            uid: user.id,
            text: text,
            ts: timestamp.rfc3339
        )
        let stored = StoredMessage(message: message, frame: ServerFrame.message(message).encode())
        if self.historyLimit > 0 {
            if self.history.count == self.historyLimit { self.history.removeFirst() }
            self.history.append(stored)
        }
        if let id, self.dedupWindow > 0 {
            if self.acceptedOrder.count == self.dedupWindow {
                self.acceptedIDs[self.acceptedOrder.removeFirst()] = nil
            }
            self.acceptedOrder.append(id)
            self.acceptedIDs[id] = self.lastSeq
        }
        return .posted(stored)
    }

    /// What to replay to a client that asked for `since` (resume) and/or the last `count` messages.
    ///
    /// A resume succeeds when the epoch matches (or was not given) and every message after `since` is
    /// still in history; then it replays exactly those. Otherwise `recovered` is false, `firstSeq` tells
    /// where the history starts, and only the `count` replay (if asked) is sent.
    public func replay(since: UInt64?, epoch: String?, currentEpoch: String, count: Int?) -> Replay {
        if let since {
            let sameEpoch = epoch == nil || epoch == currentEpoch
            if sameEpoch, since <= self.lastSeq, since + 1 >= self.firstSeq {
                let frames = self.history.filter { $0.message.seq > since }.map(\.frame)
                return Replay(frames: frames, recovered: true, firstSeq: nil)
            }
            return Replay(frames: self.last(count), recovered: false, firstSeq: self.firstSeq)
        }
        return Replay(frames: self.last(count), recovered: nil, firstSeq: nil)
    }

    private func last(_ count: Int?) -> [ByteBuffer] {
        guard let count, count > 0 else { return [] }
        return self.history.suffix(count).map(\.frame)
    }
}
