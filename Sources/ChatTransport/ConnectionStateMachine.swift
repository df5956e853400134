package import NIOCore
public import NIOWebSocket

/// The lifecycle of one WebSocket connection as a value, for both ends: events in, actions out, no I/O
/// and no clock (timers and stalls are events too).
///
/// Each state carries what only it needs, the way WSCore's `WebSocketStateMachine` does: a server
/// connection is `joining` until its application is attached, holding the data frames that came early;
/// `open` with the ping in flight and, while its room pauses its reading, the frames read meanwhile;
/// `closing` once our close frame is out, with its code; `closed` with the code we sent, if any.
/// A client's connection starts `open`.
public struct ConnectionStateMachine: Sendable {
    /// What the caller should do.
    package enum Action: Sendable, Equatable {
        /// Hand the data frame to the application now.
        case deliver
        /// Nothing now: the machine keeps the frame and hands it back from `nextHeld()`.
        case hold
        /// Send a pong with the ping's payload.
        case sendPong
        /// Send a ping with this payload; its pong must come back before `pongDeadlinePassed()`.
        case sendPing(ByteBuffer)
        /// Send a close frame with this code and reason; keep reading until the peer's close arrives.
        case sendClose(WebSocketErrorCode, reason: String)
        /// Answer the peer's close with this code (nil: an empty close body); the connection is then done.
        case echoCloseAndFinish(WebSocketErrorCode?)
        /// The close handshake is complete: close the TCP connection.
        case finish
        /// The peer stopped answering pings: drop the TCP connection without a handshake.
        case dropUnresponsive
        /// The peer stopped taking what we send: drop what waits for it and close with 1008.
        case evictSlowConsumer
        /// Nothing to do (or the frame is discarded: data after our close may be, RFC 6455 §5.5.1).
        case none
    }

    /// What `attached()` asks of the caller.
    package enum Attachment: Sendable, Equatable {
        /// Hand the application the held frames (`nextHeld()`), then read on.
        case drainHeld
        /// The connection ended before it had an application: tell it so, with the code we sent.
        case alreadyClosed(sent: WebSocketErrorCode?)
        case none
    }

    /// Data frames read but not handed to the application yet, in order, and their bytes.
    @usableFromInline
    package struct Held: Sendable {
        var frames = CircularBuffer<WebSocketFrame>(initialCapacity: 4)
        var bytes = 0

        /// No frames: one shared buffer, so a connection allocates none until it holds a frame (10,000 idle
        /// connections would each keep an empty one), and a state whose frames are taken out to change keeps
        /// this meanwhile.
        static let empty = Held()
    }

    /// How an open connection reads.
    @usableFromInline
    package enum Reading: Sendable {
        case flowing
        /// Its room waits for a member that fell behind: frames already read are held, none handled.
        case paused(Held)
        /// Handing out held frames before reading on (after an attach or a resume).
        case draining(Held)
    }

    /// The liveness check: how many pings went out, and whether one waits for its pong.
    @usableFromInline
    package enum Ping: Sendable, Equatable {
        case idle(sent: UInt64)
        case awaiting(UInt64)
    }

    @usableFromInline
    enum State: Sendable {
        case joining(early: Held, ping: Ping)
        case open(ping: Ping, reading: Reading)
        case closing(sent: WebSocketErrorCode)
        case closed(sent: WebSocketErrorCode?)
    }

    @usableFromInline
    private(set) var state: State
    /// The most bytes of data frames held at once (early, or while paused).
    private let maxHeldBytes: Int

    /// A server connection whose application is not attached yet.
    package static func server(maxHeldBytes: Int) -> Self {
        Self(state: .joining(early: .empty, ping: .idle(sent: 0)), maxHeldBytes: maxHeldBytes)
    }

    /// A client connection: open as soon as the upgrade is done (the welcome is just its first frame).
    package static func client() -> Self {
        Self(state: .open(ping: .idle(sent: 0), reading: .flowing), maxHeldBytes: 0)
    }

    private init(state: State, maxHeldBytes: Int) {
        self.state = state
        self.maxHeldBytes = maxHeldBytes
    }

    /// Whether frames may still be sent: nothing may follow our close frame (RFC 6455 §5.5.1).
    ///
    /// Public and inlinable, as the two below: the server asks it for every frame it writes, and a call
    /// into this module copies the whole machine (retaining what it holds) to ask — `package` declarations
    /// are not inlined across modules by this toolchain.
    @inlinable
    public var canSend: Bool {
        switch self.state {
        case .joining, .open: true
        case .closing, .closed: false
        }
    }

    /// Whether the connection reads and hands out frames as they come (not joining, paused or draining).
    @inlinable
    public var readsFreely: Bool {
        if case .open(_, .flowing) = self.state { return true }
        return false
    }

    /// Whether this side sent a close frame: a connection that ends then ended as asked.
    @inlinable
    public var sentClose: Bool {
        switch self.state {
        case .closing: true
        case .closed(let sent): sent != nil
        case .joining, .open: false
        }
    }

    // MARK: Reading

    /// A text or binary frame arrived.
    package mutating func receivedData(_ frame: WebSocketFrame) -> Action {
        switch self.state {
        case .open(_, .flowing):
            return .deliver
        case .joining, .open:
            // Joining, paused, or behind frames that wait to be handed out: it waits too, so order is kept.
            return self.hold(frame)
        case .closing, .closed:
            return .none
        }
    }

    /// What holding a frame costs besides its payload (the frame value and its buffer, roughly): counted
    /// against `maxHeldBytes`, so a flood of empty frames is bounded like a flood of large ones.
    package static let heldFrameOverhead = 64

    /// Keeps `frame` after the frames already held, within `maxHeldBytes`; one too many closes with 1008.
    /// The first frame is always taken: the frame aggregator bounds its size already.
    private mutating func hold(_ frame: WebSocketFrame) -> Action {
        let joining = if case .joining = self.state { true } else { false }
        guard var held = self.takeHeld() else { return .none }
        held.bytes += frame.length + Self.heldFrameOverhead
        guard held.frames.isEmpty || held.bytes <= self.maxHeldBytes else {
            let reason = joining ? "too much data before the welcome" : "too much data while the room waits"
            return self.closeRequested(.policyViolation, reason: reason)
        }
        held.frames.append(frame)
        self.putBack(held)
        return .hold
    }

    /// The held frames, taken out of the state (which keeps none meanwhile), so that changing them copies
    /// nothing; `putBack` returns them. Nil when the state holds no frames.
    private mutating func takeHeld() -> Held? {
        switch self.state {
        case .joining(let early, let ping):
            self.state = .joining(early: .empty, ping: ping)
            return early
        case .open(let ping, .paused(let held)):
            self.state = .open(ping: ping, reading: .paused(.empty))
            return held
        case .open(let ping, .draining(let held)):
            self.state = .open(ping: ping, reading: .draining(.empty))
            return held
        case .open(_, .flowing), .closing, .closed:
            return nil
        }
    }

    private mutating func putBack(_ held: Held) {
        switch self.state {
        case .joining(_, let ping): self.state = .joining(early: held, ping: ping)
        case .open(let ping, .paused): self.state = .open(ping: ping, reading: .paused(held))
        case .open(let ping, .draining): self.state = .open(ping: ping, reading: .draining(held))
        case .open(_, .flowing), .closing, .closed: break
        }
    }

    /// The application is there: what came early is handed to it first.
    package mutating func attached() -> Attachment {
        switch self.state {
        case .joining(let early, let ping):
            self.state = .open(ping: ping, reading: early.frames.isEmpty ? .flowing : .draining(early))
            return early.frames.isEmpty ? .none : .drainHeld
        case .closed(let sent):
            return .alreadyClosed(sent: sent)
        case .open, .closing:
            return .none
        }
    }

    /// The next held frame to hand out while draining; nil once none is left or reading paused again.
    package mutating func nextHeld() -> WebSocketFrame? {
        guard case .open(let ping, .draining) = self.state, var held = self.takeHeld() else { return nil }
        let frame = held.frames.popFirst()
        if let frame { held.bytes -= frame.length + Self.heldFrameOverhead }
        self.state = .open(ping: ping, reading: held.frames.isEmpty ? .flowing : .draining(held))
        return frame
    }

    /// The room asks this connection to stop handling frames; true when the caller should stop reading.
    package mutating func pauseReading() -> Bool {
        switch self.state {
        case .open(let ping, .flowing):
            self.state = .open(ping: ping, reading: .paused(.empty))
            return true
        case .open(let ping, .draining(let held)):
            self.state = .open(ping: ping, reading: .paused(held))
            return true
        case .joining, .open(_, .paused), .closing, .closed:
            return false
        }
    }

    /// The room no longer waits: drain what was held (`nextHeld()`), then read on once `readsFreely`.
    package mutating func resumeReading() {
        guard case .open(let ping, .paused(let held)) = self.state else { return }
        self.state = .open(ping: ping, reading: held.frames.isEmpty ? .flowing : .draining(held))
    }

    // MARK: Control frames and timers

    /// A ping arrived.
    package mutating func receivedPing() -> Action {
        self.canSend ? .sendPong : .none
    }

    /// A pong arrived with `payload`: it answers the ping in flight only if it carries that ping's payload.
    package mutating func receivedPong(_ payload: ByteBuffer) -> Action {
        switch self.state {
        case .joining(let early, .awaiting(let sent)) where Self.payload(sent) == payload:
            self.state = .joining(early: early, ping: .idle(sent: sent))
        case .open(.awaiting(let sent), let reading) where Self.payload(sent) == payload:
            self.state = .open(ping: .idle(sent: sent), reading: reading)
        default:
            break
        }
        return .none
    }

    /// The ping timer fired: time to check the peer is still there.
    package mutating func pingTimerFired() -> Action {
        switch self.state {
        case .joining(let early, let ping):
            let next = ping.count + 1
            self.state = .joining(early: early, ping: .awaiting(next))
            return .sendPing(Self.payload(next))
        case .open(let ping, let reading):
            let next = ping.count + 1
            self.state = .open(ping: .awaiting(next), reading: reading)
            return .sendPing(Self.payload(next))
        case .closing, .closed:
            return .none
        }
    }

    /// The time a pong may take after a ping has passed.
    package mutating func pongDeadlinePassed() -> Action {
        switch self.state {
        case .open(.awaiting, .paused):
            // While its room holds this connection's reading, its pong waits unread: not its fault.
            return .none
        case .joining(_, .awaiting), .open(.awaiting, _):
            self.state = .closed(sent: nil)
            return .dropUnresponsive
        case .joining, .open, .closing, .closed:
            return .none
        }
    }

    /// The peer stopped taking our frames: no progress for the stall timeout, a backlog its rules give
    /// up on, or the server's budget spent with this backlog among the largest.
    package mutating func writeStalled() -> Action {
        guard self.canSend else { return .none }
        self.state = .closing(sent: .policyViolation)
        return .evictSlowConsumer
    }

    // MARK: Closing

    /// A close frame arrived, with the code it carried (nil when it had none).
    package mutating func receivedClose(code: WebSocketErrorCode?) -> Action {
        switch self.state {
        case .joining, .open:
            let reply = code.map(Self.replyCode)
            self.state = .closed(sent: reply ?? .normalClosure)
            return .echoCloseAndFinish(reply)
        case .closing(let sent):
            self.state = .closed(sent: sent)
            return .finish
        case .closed:
            return .none
        }
    }

    /// This side wants to close the connection with `code`.
    package mutating func closeRequested(_ code: WebSocketErrorCode, reason: String = "") -> Action {
        guard self.canSend else { return .none }
        self.state = .closing(sent: code)
        return .sendClose(code, reason: reason)
    }

    /// The TCP connection ended; returns the close code this side sent, if it sent one.
    package mutating func channelClosed() -> WebSocketErrorCode? {
        let sent: WebSocketErrorCode?
        switch self.state {
        case .closing(let code): sent = code
        case .closed(let code): sent = code
        case .joining, .open: sent = nil
        }
        self.state = .closed(sent: sent)
        return sent
    }

    /// The code to answer a peer's close with: its own, unless it may not appear on the wire (RFC 6455 §7.4).
    package static func replyCode(_ code: WebSocketErrorCode) -> WebSocketErrorCode {
        switch code {
        case .unknown(let raw)
        where raw < 1000 || (raw >= 1004 && raw <= 1006) || (raw >= 1015 && raw < 3000)
            || raw >= 5000:
            .protocolError
        default:
            code
        }
    }

    /// A ping's payload: its number, so a late pong to an earlier ping does not count for this one.
    package static func payload(_ count: UInt64) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(count)
        return buffer
    }
}

extension ConnectionStateMachine.Ping {
    /// How many pings went out.
    package var count: UInt64 {
        switch self {
        case .idle(let sent), .awaiting(let sent): sent
        }
    }
}
