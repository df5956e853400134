import ChatProtocol
import NIOCore

/// The frames one connection could not write yet because its socket is full, with what they cost and
/// the rules for a client that falls behind. A value: no clock (times are passed in), no I/O.
///
/// What a frame costs is what it keeps alive: its buffer's whole storage (NIO rounds every allocation up
/// to a power of two, so a 1.1 KiB frame pins 2 KiB) plus its slot here — not its readable bytes.
/// A broadcast frame's storage is shared by every recipient, yet each backlog counts it in full, as it
/// alone would keep it alive after the others drained: the sum over connections bounds the real memory.
///
/// A connection is *behind* once its backlog passes `Rules.limit`: its room then stops reading from
/// publishers until it has caught up (below half the limit), so a reader that keeps reading loses nothing
/// and the server holds no more for it than the limit (plus a message per publisher already read). A
/// behind connection must keep making progress: no progress for `Rules.progressGrace`, or not caught up
/// within `Rules.catchUpTimeout`, and it is closed — the room is waiting for it.
struct OutboundBacklog {
    /// What appending a frame did.
    enum Appended: Equatable {
        case queued
        /// The backlog just passed the limit: the connection is now behind.
        case fellBehind
    }

    /// What the connection should do about its backlog at a given moment.
    enum Verdict: Equatable {
        /// Nothing now; look again at `deadline` (nil: nothing to wait for).
        case wait(until: NIODeadline?)
        /// Close it as too slow.
        case evict(reason: String)
    }

    /// The bounds, the same for every connection of a server (passed in, not kept by each).
    struct Rules: Sendable {
        /// The bytes of backlog that make a connection behind.
        var limit: Int
        /// How long a behind connection may go without its socket taking anything.
        var progressGrace: TimeAmount
        /// How long a connection may stay behind, however it progresses.
        var catchUpTimeout: TimeAmount
    }

    /// Allocated with the first frame and freed with the last: most connections never need one, and an
    /// idle connection should not keep half a KiB of empty slots (10,000 of them: 5 MB).
    private var frames: CircularBuffer<ByteBuffer>?
    /// What the frames pin, bookkeeping included.
    private(set) var pinnedBytes = 0
    /// When the connection fell behind; nil while it is not.
    private(set) var behindSince: NIODeadline?
    /// When the socket last stopped taking data (the start of the current stall); nil while it takes data.
    private(set) var stalledSince: NIODeadline?

    var isEmpty: Bool { self.frames == nil }
    var isBehind: Bool { self.behindSince != nil }

    /// The bytes `frame` keeps alive while it waits here.
    static func cost(of frame: ByteBuffer) -> Int {
        frame.storageCapacity + MemoryLayout<ByteBuffer?>.stride
    }

    /// Keeps `frame` for later, after the others.
    mutating func append(_ frame: ByteBuffer, now: NIODeadline, rules: Rules) -> Appended {
        if self.frames == nil { self.frames = CircularBuffer(initialCapacity: 16) }
        self.frames!.append(frame)
        self.pinnedBytes += Self.cost(of: frame)
        guard self.behindSince == nil, self.pinnedBytes > rules.limit else { return .queued }
        self.behindSince = now
        return .fellBehind
    }

    /// Takes the oldest frame, to write it.
    mutating func popFirst() -> ByteBuffer? {
        guard let frame = self.frames?.popFirst() else { return nil }
        self.pinnedBytes -= Self.cost(of: frame)
        if self.frames!.isEmpty { self.frames = nil }
        return frame
    }

    /// Drops every frame (the connection is closing, so it is behind no more); returns the bytes freed.
    mutating func removeAll() -> Int {
        let freed = self.pinnedBytes
        self.frames = nil
        self.pinnedBytes = 0
        self.behindSince = nil
        return freed
    }

    /// After writing from the backlog: whether the connection just caught up (it was behind and is now
    /// under half the limit — hysteresis, so a reader at the edge does not flip the room on every frame).
    mutating func caughtUp(rules: Rules) -> Bool {
        guard self.behindSince != nil, self.pinnedBytes <= rules.limit / 2 else { return false }
        self.behindSince = nil
        return true
    }

    /// The socket stopped taking data.
    mutating func socketStalled(now: NIODeadline) {
        if self.stalledSince == nil { self.stalledSince = now }
    }

    /// The socket takes data again (the client read some).
    mutating func socketDrained() {
        self.stalledSince = nil
    }

    /// Whether a connection in this state must be closed at `now`, else when to look again.
    func verdict(now: NIODeadline, rules: Rules) -> Verdict {
        guard let behindSince = self.behindSince else { return .wait(until: nil) }
        if now - behindSince >= rules.catchUpTimeout {
            return .evict(reason: "behind for \(Self.describe(rules.catchUpTimeout)) without catching up")
        }
        var next = behindSince + rules.catchUpTimeout
        if let stalledSince = self.stalledSince {
            if now - stalledSince >= rules.progressGrace {
                return .evict(reason: "behind by \(self.pinnedBytes) bytes and not reading")
            }
            next = min(next, stalledSince + rules.progressGrace)
        }
        return .wait(until: next)
    }

    private static func describe(_ amount: TimeAmount) -> String {
        Duration.nanoseconds(amount.nanoseconds).formattedSeconds
    }
}
