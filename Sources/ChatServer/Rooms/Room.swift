import ChatProtocol
import NIOCore

/// One room's state as a value: members in order of joining, the seq counter and the history ring.
///
/// It does no I/O and reads no clock (timestamps are passed in), so tests can step it event by event.
/// Messages are kept encoded as well, so replaying history to a joiner costs no encoding.
struct Room: Sendable {
    /// A message in the history, with its encoded frame.
    struct StoredMessage: Sendable {
        var message: ChatMessage
        var frame: ByteBuffer
    }

    /// Who waits for a message's ack: the member that sent it (or resent its id) and the client's id.
    struct AckTarget: Sendable, Equatable {
        var userID: UserID
        var id: MessageID

        init(userID: UserID, id: MessageID) {
            self.userID = userID
            self.id = id
        }
    }

    /// A message that has its seq but is not visible yet: it waits for the store to confirm it is durable.
    struct Unconfirmed: Sendable {
        var stored: StoredMessage
        /// Whether its id came from the client (and so must be de-duplicated after a restart too).
        var clientID: Bool
        /// Who gets an ack once it is confirmed.
        var acks: [AckTarget]
    }

    /// What posting a message did.
    enum PostResult: Sendable {
        /// The message is new and visible: it got the next seq and went into the history. Ack and broadcast it.
        case posted(StoredMessage)
        /// The message is new but waits for the store: write it, and ack and broadcast it from `confirm(through:)`.
        case unconfirmed(Unconfirmed)
        /// A message with this id was accepted before (a resend after a reconnect): it keeps its seq. Ack again.
        case duplicate(seq: UInt64)
        /// A resend of a message the store has not confirmed yet: its ack comes with the first copy's.
        case duplicateUnconfirmed(seq: UInt64)

        /// The seq the message has.
        var seq: UInt64 {
            switch self {
            case .posted(let stored): stored.message.seq
            case .unconfirmed(let unconfirmed): unconfirmed.stored.message.seq
            case .duplicate(let seq), .duplicateUnconfirmed(let seq): seq
            }
        }
    }

    /// What a store holds of a room from some time on, read for a `sinceTime` join that reaches back
    /// further than the history.
    struct StoredSince: Sendable {
        /// The store's first message at or after the time; nil when it has none.
        var firstSeq: UInt64?
        /// The messages from `firstSeq` on, oldest first, as far as the read-back bound allowed; empty when
        /// the history has `firstSeq` already.
        var messages: [StoredMessage]
    }

    /// What a client gets replayed when it joins.
    struct Replay: Sendable {
        /// The encoded messages to send, oldest first.
        var frames: [ByteBuffer]
        /// Set when the client asked to resume: whether every message after its `since` is included.
        var recovered: Bool?
        /// With `recovered == false`, the first seq still in history.
        var firstSeq: UInt64?
    }

    /// The room's name.
    let name: RoomName
    /// The members, in order of joining.
    private(set) var members: [ChatUser] = []
    /// How many members have each lowercased name (names are unique ignoring case, so 0 or 1 — counted
    /// anyway so a bookkeeping slip cannot free a name still in use).
    private var lowercasedNames: [String: Int] = [:]
    /// The latest seq given out (0 before the first message).
    private(set) var lastSeq: UInt64 = 0
    /// The latest seq that is visible: in history, announced in `welcome`, replayed. With a store it trails
    /// `lastSeq` until the store confirms; without one the two are equal.
    private(set) var confirmedSeq: UInt64 = 0
    /// Whether messages wait for `confirm(through:)` before they are visible (the server has a store).
    let requiresConfirmation: Bool
    /// How many messages the history keeps.
    let historyLimit: Int
    /// How many client message ids are remembered for de-duplication.
    let dedupWindow: Int
    private var history: CircularBuffer<StoredMessage>
    /// When the newest message that left the history (or never entered it) was posted; nil when none did,
    /// or when it is not known (a room restored from a store).
    private var newestDropped: Timestamp?
    private var acceptedIDs: [MessageID: UInt64] = [:]
    private var acceptedOrder: CircularBuffer<MessageID>
    /// Messages posted but not confirmed yet, seqs `confirmedSeq + 1 ... lastSeq` in order.
    private var unconfirmed: CircularBuffer<Unconfirmed> = []

    /// Creates an empty room.
    init(name: RoomName, historyLimit: Int, dedupWindow: Int = 10_000, requiresConfirmation: Bool = false) {
        self.name = name
        self.requiresConfirmation = requiresConfirmation
        self.historyLimit = max(0, historyLimit)
        self.dedupWindow = max(0, dedupWindow)
        self.history = CircularBuffer(initialCapacity: min(max(self.historyLimit, 1), 1024))
        self.acceptedOrder = CircularBuffer(initialCapacity: min(max(self.dedupWindow, 1), 1024))
    }

    /// The messages the history still holds.
    var historyCount: Int { self.history.count }

    /// When the last visible message was posted; nil when none was, or it is not known.
    var lastActivity: Timestamp? { self.history.last?.message.ts ?? self.newestDropped }

    /// The oldest seq still in history (`confirmedSeq + 1` when the history is empty).
    var firstSeq: UInt64 { self.history.first?.message.seq ?? self.confirmedSeq + 1 }

    /// Whether the room can be forgotten: nobody in it and no message ever posted. A room that had messages
    /// is kept, so its seq never starts over within an epoch (and never collides in the store).
    var isDisposable: Bool { self.members.isEmpty && self.lastSeq == 0 }

    /// Loads what a store kept: the seq carries on after `lastSeq`, the newest messages fill the history,
    /// and the newest client ids are de-duplicated again.
    /// - Parameter messages: The room's newest stored messages, oldest first.
    mutating func restore(lastSeq: UInt64, messages: [PersistedMessage]) {
        precondition(self.lastSeq == 0, "restore(lastSeq:messages:) is for a new room")
        self.lastSeq = lastSeq
        self.confirmedSeq = lastSeq
        for persisted in messages where persisted.clientID {
            self.accept(id: persisted.message.id, seq: persisted.message.seq)
        }
        self.newestDropped = messages.dropLast(self.historyLimit).last?.message.ts
        for persisted in messages.suffix(self.historyLimit) {
            self.remember(
                StoredMessage(message: persisted.message, frame: ServerFrame.message(persisted.message).encode())
            )
        }
    }

    /// Adds a member; a name someone already has (case-insensitively) gets a `-2`, `-3`, … suffix.
    mutating func join(id: UserID, requestedName: String) -> ChatUser {
        let user = ChatUser(id: id, name: UserName.unique(requestedName) { self.lowercasedNames[$0, default: 0] > 0 })
        self.members.append(user)
        self.lowercasedNames[user.name.lowercased(), default: 0] += 1
        return user
    }

    /// Adds a member whose name is already unique (the cluster's database chose it), or one who joined on
    /// another node; nothing when `user` is a member already.
    mutating func admit(_ user: ChatUser) {
        guard !self.members.contains(where: { $0.id == user.id }) else { return }
        self.members.append(user)
        self.lowercasedNames[user.name.lowercased(), default: 0] += 1
    }

    /// Gives a member the name the cluster chose for it; the previous name, or nil when `id` is not in the
    /// room or already has that name.
    mutating func rename(id: UserID, toExactly name: String) -> String? {
        guard let index = self.members.firstIndex(where: { $0.id == id }), self.members[index].name != name else {
            return nil
        }
        let previousName = self.members[index].name
        self.forgetName(previousName)
        self.members[index].name = name
        self.lowercasedNames[name.lowercased(), default: 0] += 1
        return previousName
    }

    /// The member called `name`, compared as names are (ignoring case); nil when nobody is.
    func member(named name: String) -> ChatUser? {
        let key = name.lowercased()
        guard self.lowercasedNames[key] != nil else { return nil }
        return self.members.first { $0.name.lowercased() == key }
    }

    /// Removes a member; nil when `id` is not in the room.
    mutating func leave(id: UserID) -> ChatUser? {
        guard let index = self.members.firstIndex(where: { $0.id == id }) else { return nil }
        let user = self.members.remove(at: index)
        self.forgetName(user.name)
        return user
    }

    private mutating func forgetName(_ name: String) {
        let key = name.lowercased()
        let count = self.lowercasedNames[key, default: 0]
        self.lowercasedNames[key] = count > 1 ? count - 1 : nil
    }

    /// Renames a member (made unique like a join); nil when `id` is not in the room or the name is unchanged.
    mutating func rename(id: UserID, to requestedName: String) -> (user: ChatUser, previousName: String)? {
        guard let index = self.members.firstIndex(where: { $0.id == id }) else { return nil }
        let previousName = self.members[index].name
        guard requestedName != previousName else { return nil }
        // Changing only the case of one's own name is allowed: the others are what must not clash.
        let own = previousName.lowercased()
        let name = UserName.unique(requestedName) { key in
            self.lowercasedNames[key, default: 0] > (key == own ? 1 : 0)
        }
        self.forgetName(previousName)
        self.members[index].name = name
        self.lowercasedNames[name.lowercased(), default: 0] += 1
        return (self.members[index], previousName)
    }

    /// Gives a message the next seq and returns it with its encoded frame — unless a message with the same
    /// client `id` was accepted within the last `dedupWindow` ids, which keeps its seq.
    ///
    /// Without a store the message goes straight into the history (`.posted`); with one it waits in order
    /// for `confirm(through:)` (`.unconfirmed`), so nobody sees or is acked a message a crash could lose.
    /// - Parameter id: The sender's id for the message; nil makes the server pick one (never de-duplicated).
    mutating func post(from user: ChatUser, id: MessageID?, text: String, at timestamp: Timestamp) -> PostResult {
        if let id, let seq = self.acceptedIDs[id] {
            guard seq > self.confirmedSeq else { return .duplicate(seq: seq) }
            self.unconfirmed[
                self.unconfirmed.index(self.unconfirmed.startIndex, offsetBy: Int(seq - self.confirmedSeq - 1))
            ]
            .acks.append(AckTarget(userID: user.id, id: id))
            return .duplicateUnconfirmed(seq: seq)
        }
        self.lastSeq += 1
        let message = ChatMessage(
            room: self.name,
            seq: self.lastSeq,
            id: id ?? MessageID(RandomID.make(prefix: "s-", length: 12)),
            from: user.name,
            uid: user.id,
            text: text,
            ts: timestamp
        )
        let stored = StoredMessage(message: message, frame: ServerFrame.message(message).encode())
        if let id { self.accept(id: id, seq: self.lastSeq) }
        guard self.requiresConfirmation else {
            self.confirmedSeq = self.lastSeq
            self.remember(stored)
            return .posted(stored)
        }
        let pending = Unconfirmed(
            stored: stored,
            clientID: id != nil,
            acks: id.map { [AckTarget(userID: user.id, id: $0)] } ?? []
        )
        self.unconfirmed.append(pending)
        return .unconfirmed(pending)
    }

    /// Makes every message up to `seq` visible — into the history — and returns them, oldest first, with who
    /// waits for their acks. The store calls this once the messages are durable.
    mutating func confirm(through seq: UInt64) -> [Unconfirmed] {
        var confirmed: [Unconfirmed] = []
        while let first = self.unconfirmed.first, first.stored.message.seq <= seq {
            self.unconfirmed.removeFirst()
            self.confirmedSeq = first.stored.message.seq
            self.remember(first.stored)
            confirmed.append(first)
        }
        return confirmed
    }

    /// Takes a message the cluster committed (its seq given out by PostgreSQL) into the history, if it is
    /// the next one this room has not seen; nil for one it has, or one that would leave a gap.
    mutating func deliver(_ message: ChatMessage) -> StoredMessage? {
        precondition(!self.requiresConfirmation, "a cluster room's messages are committed before they arrive")
        guard message.seq == self.confirmedSeq + 1 else { return nil }
        let stored = StoredMessage(message: message, frame: ServerFrame.message(message).encode())
        self.lastSeq = message.seq
        self.confirmedSeq = message.seq
        self.remember(stored)
        return stored
    }

    private mutating func remember(_ stored: StoredMessage) {
        guard self.historyLimit > 0 else {
            self.newestDropped = stored.message.ts
            return
        }
        if self.history.count == self.historyLimit { self.newestDropped = self.history.removeFirst().message.ts }
        self.history.append(stored)
    }

    private mutating func accept(id: MessageID, seq: UInt64) {
        guard self.dedupWindow > 0 else { return }
        if self.acceptedOrder.count == self.dedupWindow {
            self.acceptedIDs[self.acceptedOrder.removeFirst()] = nil
        }
        self.acceptedOrder.append(id)
        self.acceptedIDs[id] = seq
    }

    /// What to replay to a client that asked for `since` (resume) and/or the last `count` messages.
    ///
    /// A resume succeeds when the epoch matches (or was not given) and every message after `since` is
    /// still in history — or in `earlier`, messages read back from a store that start right after `since`;
    /// then it replays exactly those. Otherwise `recovered` is false, `firstSeq` tells where the history
    /// starts, and only the `count` replay (if asked) is sent.
    func replay(
        since: UInt64?,
        epoch: String?,
        currentEpoch: String,
        count: Int?,
        earlier: [StoredMessage] = []
    ) -> Replay {
        guard let since else { return Replay(frames: self.last(count), recovered: nil, firstSeq: nil) }
        let sameEpoch = epoch == nil || epoch == currentEpoch
        // The stored messages are used only when they join `since` to the history without a hole.
        let covered = Self.isContiguous(earlier, after: since) ? earlier.last?.message.seq ?? since : since
        guard sameEpoch, since <= self.confirmedSeq, covered + 1 >= self.firstSeq else {
            return Replay(frames: self.last(count), recovered: false, firstSeq: self.firstSeq)
        }
        let stored = covered > since ? earlier.map(\.frame) : []
        let frames = stored + self.history.filter { $0.message.seq > covered }.map(\.frame)
        return Replay(frames: frames, recovered: true, firstSeq: nil)
    }

    /// What to replay to a client that asked for what was said from `time` on (`sinceTime`): the history
    /// from its first message at or after `time` — preceded by what a store still has (`stored`) when the
    /// history does not reach back that far. `recovered` is false when messages from `time` on are gone
    /// (no store, or its read-back bound was passed): then the history's part is replayed still.
    func replay(from time: Timestamp, stored: StoredSince?) -> Replay {
        let recent = self.history.drop { $0.message.ts < time }
        if self.historyReaches(back: time) {
            return Replay(frames: recent.map(\.frame), recovered: true, firstSeq: nil)
        }
        if let stored {
            guard let start = stored.firstSeq else {
                // The store has nothing from then on, so neither has the history: nothing was said.
                return Replay(frames: [], recovered: true, firstSeq: nil)
            }
            if start >= self.firstSeq {
                return Replay(
                    frames: self.history.filter { $0.message.seq >= start }.map(\.frame),
                    recovered: true,
                    firstSeq: nil
                )
            }
            if let last = stored.messages.last, Self.isContiguous(stored.messages, after: start - 1),
                last.message.seq + 1 >= self.firstSeq
            {
                let frames =
                    stored.messages.map(\.frame)
                    + self.history.filter { $0.message.seq > last.message.seq }.map(\.frame)
                return Replay(frames: frames, recovered: true, firstSeq: nil)
            }
        }
        return Replay(
            frames: recent.map(\.frame),
            recovered: false,
            firstSeq: recent.first?.message.seq ?? self.confirmedSeq + 1
        )
    }

    /// Whether the history holds every message posted from `time` on: nothing ever left it, or what left
    /// it is older. When this is false, a store may still have them (`missing(from:)`).
    func historyReaches(back time: Timestamp) -> Bool {
        if self.firstSeq == 1 { return true }
        if let first = self.history.first, first.message.ts < time { return true }
        return self.newestDropped.map { $0 < time } ?? false
    }

    /// For a `sinceTime` join the history cannot serve: the seqs a store should look among (through the
    /// newest, so what it reads still joins the history if it moves on meanwhile) and where the history starts.
    func missing(from time: Timestamp) -> (through: UInt64, historyStart: UInt64)? {
        guard !self.historyReaches(back: time) else { return nil }
        return (self.confirmedSeq, self.firstSeq)
    }

    /// Whether `messages` are the seqs right after `seq`, without a hole.
    private static func isContiguous(_ messages: [StoredMessage], after seq: UInt64) -> Bool {
        messages.enumerated().allSatisfy { $0.element.message.seq == seq + 1 + UInt64($0.offset) }
    }

    /// What to read back from a store for a resume from `since` that the history can no longer serve: every
    /// seq after it, up to the newest, so the messages read still join the history if it moves on meanwhile.
    func missing(since: UInt64, epoch: String?, currentEpoch: String) -> ClosedRange<UInt64>? {
        guard epoch == nil || epoch == currentEpoch, since < self.confirmedSeq, since + 1 < self.firstSeq else {
            return nil
        }
        return (since + 1)...self.confirmedSeq
    }

    private func last(_ count: Int?) -> [ByteBuffer] {
        guard let count, count > 0 else { return [] }
        return self.history.suffix(count).map(\.frame)
    }
}
