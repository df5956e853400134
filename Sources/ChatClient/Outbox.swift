import ChatProtocol

/// What a client has said and the server has not acknowledged yet, in order, as a value: events in,
/// actions out, no clock (times are passed in) and no I/O. `chat send` and `chat join` both send through
/// it (`OutboxDriver` runs it on a connection).
///
/// Messages carry ids and stay until acknowledged; a rename goes out in line with them (the lines typed
/// before it under the old name) and is asked for again first on every new connection. After a reconnect
/// everything unacknowledged goes again, in order, with the same ids: the server stores each id once.
/// Sends keep under the server's announced rate (`Pacer`); a message refused as rate limited is sent
/// again, with everything after it, once the refusal's `retryAfter` has passed — nothing overtakes it.
/// The window bounds what is unacknowledged, in messages and in bytes.
struct Outbox: Sendable {
    /// What may be unacknowledged at once, and whether to pace.
    struct Limits: Sendable {
        var window = Int.max
        var windowBytes = Int.max
        var pacing = true
        /// Whether acknowledgements are kept for `takeReceipts()` (`chat send --json`).
        var keepsReceipts = false
    }

    /// A message the server acknowledged, with the seq it gave (none for a direct message).
    struct Receipt: Sendable, Equatable {
        var number: Int
        var id: MessageID
        var seq: UInt64?
    }

    struct Message: Sendable, Equatable {
        var number: Int
        var id: MessageID
        var text: String
        /// The member it is addressed to: a direct message.
        var to: String? = nil
        /// What it takes of `windowBytes`: its size, or the whole window for one larger than that.
        var weight: Int
    }

    enum Item: Sendable, Equatable {
        case message(Message)
        case nick(number: Int, name: String)

        var number: Int {
            switch self {
            case .message(let message): message.number
            case .nick(let number, _): number
            }
        }
    }

    /// What to do next.
    enum Action: Sendable, Equatable {
        /// Write these frames, in order, with one flush.
        case send([ClientFrame])
        /// Nothing may go before then (pacing, or a refusal's retry-after).
        case wait(until: ContinuousClock.Instant)
        /// Nothing to send: wait for an event.
        case idle
        /// Not connected: nothing goes until `connected`.
        case disconnected
        /// The input is finished and every message acknowledged.
        case finished
    }

    /// What a refusal from the server means for the message it names.
    enum Refusal: Sendable, Equatable {
        /// Rate limited: it goes again, with everything after it, after the retry-after.
        case resendLater
        /// Refused for good (too large, malformed): it is taken out.
        case rejected(Message)
        /// Not a message waiting here (acknowledged already, or never ours).
        case unknown
    }

    /// The most frames written with one flush.
    static let batchLimit = 64

    let limits: Limits
    private let idPrefix: String
    private(set) var pending: [Item] = []
    private var numbered = 0
    /// The last item written on this connection: after it come the ones to send.
    private var sentThrough = 0
    private var pacer: Pacer?
    private var heldUntil: ContinuousClock.Instant?
    private(set) var isConnected = false
    /// How many connections were made: a new one starts sending from the start again.
    private(set) var connections = 0
    /// The last name sent, to ask for first on a new connection.
    private var nick: String?
    private var nickOwed = false
    /// A `typing` to send with the next frames (never resent: on a new connection it is stale).
    private var typingOwed = false
    private(set) var inputFinished = false

    /// The input is finished and every message acknowledged (or refused for good).
    var isFinished: Bool { self.inputFinished && self.unacknowledged == 0 }
    /// Whether a connection was ever made (its welcome told the limits).
    private(set) var connectedOnce = false
    /// The server's largest message, from the latest welcome.
    private(set) var maxMessageBytes: Int?
    /// The epoch of the latest connection.
    private(set) var epoch: String?
    private(set) var acknowledged = 0
    /// How many messages were written at least once.
    private(set) var sent = 0
    /// The number of the last message written the first time.
    private var newestSent = 0
    /// Acknowledgements not taken yet (`takeReceipts()`), in input order.
    private var receipts: [Receipt] = []
    private(set) var lastSeq: UInt64?
    private(set) var unacknowledged = 0
    private(set) var unacknowledgedBytes = 0

    init(limits: Limits = Limits(), idPrefix: String = RandomID.make(length: 8)) {
        self.limits = limits
        self.idPrefix = idPrefix
    }

    // MARK: Input

    /// Whether a message of `bytes` fits the window now.
    func hasRoom(forBytes bytes: Int) -> Bool {
        self.unacknowledged < self.limits.window
            && self.unacknowledgedBytes <= self.limits.windowBytes - self.weight(bytes)
    }

    private func weight(_ bytes: Int) -> Int {
        min(max(bytes, 0), self.limits.windowBytes)
    }

    /// Adds a message — to the room, or `to` one member only; returns its id (`<prefix>-<n>`, n counting
    /// from 1).
    @discardableResult
    mutating func enqueue(_ text: String, to: String? = nil) -> MessageID {
        self.numbered += 1
        let weight = self.weight(text.utf8.count)
        let message = Message(
            number: self.numbered,
            id: MessageID("\(self.idPrefix)-\(self.numbered)"),
            text: text,
            to: to,
            weight: weight
        )
        self.pending.append(.message(message))
        self.unacknowledged += 1
        self.unacknowledgedBytes += weight
        return message.id
    }

    /// Asks for a new name, after what was enqueued before it.
    mutating func rename(_ name: String) {
        self.numbered += 1
        self.pending.append(.nick(number: self.numbered, name: name))
    }

    /// Says the user is typing, on this connection only, ahead of anything waiting.
    mutating func typing() {
        if self.isConnected { self.typingOwed = true }
    }

    /// No more messages will come.
    mutating func finishInput() {
        self.inputFinished = true
    }

    // MARK: The connection

    /// A connection is open with these limits: everything unacknowledged goes again, from the start.
    mutating func connected(rate: Double, burst: Int, maxMessageBytes: Int, epoch: String) {
        self.isConnected = true
        self.connections += 1
        self.connectedOnce = true
        self.maxMessageBytes = maxMessageBytes
        self.epoch = epoch
        self.sentThrough = 0
        self.heldUntil = nil
        self.pacer = self.limits.pacing && rate > 0 ? Pacer(rate: rate, burst: burst) : nil
        self.nickOwed = self.nick != nil
    }

    /// The connection is gone.
    mutating func disconnected() {
        self.isConnected = false
        self.typingOwed = false
    }

    /// The server acknowledged `id` with `seq` (nil for a direct message); false for an id not waiting
    /// here (a repeated ack).
    @discardableResult
    mutating func acknowledged(_ id: MessageID, seq: UInt64?) -> Bool {
        guard let message = self.remove(id) else { return false }
        if self.limits.keepsReceipts {
            let receipt = Receipt(number: message.number, id: id, seq: seq)
            let index = self.receipts.lastIndex { $0.number < message.number }.map { $0 + 1 } ?? 0
            self.receipts.insert(receipt, at: index)
        }
        self.acknowledged += 1
        if let seq { self.lastSeq = max(self.lastSeq ?? 0, seq) }
        return true
    }

    /// The server refused `id`: for now (`rateLimited`, again after `retryAfter` from `now`) or for good.
    mutating func refused(
        _ id: MessageID,
        rateLimited: Bool,
        retryAfter: Duration,
        now: ContinuousClock.Instant
    ) -> Refusal {
        guard
            let number = self.pending.first(where: {
                if case .message(let message) = $0 { message.id == id } else { false }
            })?.number
        else { return .unknown }
        guard rateLimited else { return self.remove(id).map(Refusal.rejected) ?? .unknown }
        // Never skip ahead: it and everything after it go again, no sooner than the server said.
        self.sentThrough = min(self.sentThrough, number - 1)
        self.heldUntil = max(self.heldUntil ?? now, now + retryAfter)
        return .resendLater
    }

    /// The acknowledgements that can be told in input order: those of the messages before the first one
    /// still unacknowledged (acks can come out of order when a refused message goes again).
    mutating func takeReceipts() -> [Receipt] {
        let waiting = self.pending.lazy.compactMap {
            if case .message(let message) = $0 { message.number } else { nil }
        }
        let firstWaiting = waiting.first ?? .max
        let ready = self.receipts.prefix { $0.number < firstWaiting }
        self.receipts.removeFirst(ready.count)
        return Array(ready)
    }

    private mutating func remove(_ id: MessageID) -> Message? {
        guard
            let index = self.pending.firstIndex(where: {
                if case .message(let message) = $0 { message.id == id } else { false }
            }), case .message(let message) = self.pending.remove(at: index)
        else { return nil }
        self.unacknowledged -= 1
        self.unacknowledgedBytes -= message.weight
        return message
    }

    // MARK: Sending

    /// What to do at `now`. A `send` is taken as written: a connection lost before it was resends it.
    mutating func next(now: ContinuousClock.Instant) -> Action {
        if self.isFinished { return .finished }
        guard self.isConnected else { return .disconnected }
        if let held = self.heldUntil {
            if now < held { return .wait(until: held) }
            self.heldUntil = nil
        }
        var frames: [ClientFrame] = []
        if self.typingOwed {
            frames.append(.typing)
            self.typingOwed = false
        }
        if self.nickOwed, let nick = self.nick {
            frames.append(.nick(name: nick))
            self.nickOwed = false
        }
        for item in self.pending where item.number > self.sentThrough {
            guard frames.count < Self.batchLimit else { break }
            switch item {
            case .message(let message):
                if let wait = self.pacer?.admit(now: now) {
                    return frames.isEmpty ? .wait(until: now + wait) : .send(frames)
                }
                if let to = message.to {
                    frames.append(.direct(id: message.id, to: to, text: message.text))
                } else {
                    frames.append(.message(id: message.id, text: message.text))
                }
                if message.number > self.newestSent {
                    self.newestSent = message.number
                    self.sent += 1
                }
            case .nick(_, let name):
                frames.append(.nick(name: name))
                self.nick = name
            }
            self.sentThrough = item.number
        }
        // A rename is done once sent: from then on it is the name asked for after a reconnect. (Only then is
        // the queue walked again: a batch of messages alone leaves it as it is.)
        if frames.contains(where: { if case .nick = $0 { true } else { false } }) {
            self.pending.removeAll { if case .nick(let number, _) = $0 { number <= self.sentThrough } else { false } }
        }
        return frames.isEmpty ? .idle : .send(frames)
    }
}
