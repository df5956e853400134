import NIOCore
import NIOWebSocket
import Synchronization

/// A connection's bounded outbound queue, drained by the connection's own writer task.
///
/// A broadcast only appends here and never waits, so one slow client cannot stall a room. The bound is in
/// bytes; a client that falls further behind than that is told it is too slow and closed, while a reader
/// that keeps reading never loses a message. The writer takes everything pending at once and writes it
/// with one flush, so a busy connection gets many frames per system call.
final class Outbox: Sendable {
    /// What the writer should do next.
    struct Batch: Sendable {
        /// Frames to write, in order.
        var frames: [WebSocketFrame]
        /// A close frame to write after them; the writer stops once it is written.
        var close: WebSocketFrame?
    }

    private struct State {
        var frames: [WebSocketFrame] = []
        var queuedBytes = 0
        var close: WebSocketFrame?
        var finished = false
        var cancelled = false
        var waiter: CheckedContinuation<Batch?, Never>?
        /// When the writer took the batch it is still writing; nil while it waits for more.
        var writingSince: ContinuousClock.Instant?
    }

    private let limit: Int
    private let state = Mutex(State())

    /// Creates an outbox that holds at most `limit` bytes of payload.
    init(limit: Int) {
        self.limit = limit
    }

    /// Queues a frame; false when the queue would pass its limit (the frame is not queued).
    func enqueue(_ frame: WebSocketFrame) -> Bool {
        let (accepted, waiter, batch): (Bool, CheckedContinuation<Batch?, Never>?, Batch?) = self.state.withLock {
            state in
            // After a close frame nothing else may be sent (RFC 6455 §5.5.1); dropping is correct, not a loss.
            guard state.close == nil, !state.finished else { return (true, nil, nil) }
            guard state.queuedBytes + frame.length <= self.limit else { return (false, nil, nil) }
            state.frames.append(frame)
            state.queuedBytes += frame.length
            let (waiter, batch) = Self.takeWaiter(&state)
            return (true, waiter, batch)
        }
        waiter?.resume(returning: batch)
        return accepted
    }

    /// Queues a close frame to go out after what is pending (or instead of it, with `dropPending`).
    func close(_ frame: WebSocketFrame, dropPending: Bool) {
        let (waiter, batch) = self.state.withLock { state -> (CheckedContinuation<Batch?, Never>?, Batch?) in
            guard state.close == nil, !state.finished else { return (nil, nil) }
            if dropPending {
                state.frames.removeAll()
                state.queuedBytes = 0
            }
            state.close = frame
            return Self.takeWaiter(&state)
        }
        waiter?.resume(returning: batch)
    }

    /// Ends the queue: the writer gets what is pending, then nil.
    func finish() {
        let (waiter, batch) = self.state.withLock { state -> (CheckedContinuation<Batch?, Never>?, Batch?) in
            state.finished = true
            return Self.takeWaiter(&state)
        }
        waiter?.resume(returning: batch)
    }

    /// Bytes waiting to be written.
    var queuedBytes: Int { self.state.withLock { $0.queuedBytes } }

    /// The writer finished writing the batch it took.
    func wrote() {
        self.state.withLock { $0.writingSince = nil }
    }

    /// How long the writer has been stuck on one batch (the peer is not reading), or nil when it is not.
    func stalled(now: ContinuousClock.Instant) -> Duration? {
        self.state.withLock { state in state.writingSince.map { now - $0 } }
    }

    /// Waits for frames; nil once the queue is finished (or the waiting task is cancelled) and empty.
    func next() async -> Batch? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Batch?, Never>) in
                let ready: Batch?? = self.state.withLock { state in
                    if let batch = Self.takeBatch(&state) { return .some(batch) }
                    if state.finished || state.cancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Everything pending as one batch, or nil when there is nothing to write.
    private static func takeBatch(_ state: inout State) -> Batch? {
        guard !state.frames.isEmpty || state.close != nil else { return nil }
        let batch = Batch(frames: state.frames, close: state.close)
        state.writingSince = .now
        state.frames = []
        state.queuedBytes = 0
        if state.close != nil {
            // The close frame is handed out once; the queue is done after it.
            state.close = nil
            state.finished = true
        }
        return batch
    }

    /// The waiting writer and what to give it, when there is a writer waiting.
    private static func takeWaiter(_ state: inout State) -> (CheckedContinuation<Batch?, Never>?, Batch?) {
        guard let waiter = state.waiter else { return (nil, nil) }
        let batch = Self.takeBatch(&state)
        if batch == nil && !state.finished { return (nil, nil) }
        state.waiter = nil
        return (waiter, batch)
    }
}
