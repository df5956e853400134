import ChatProtocol
import Synchronization

/// Runs an `Outbox` for the tasks that share it: the input adds to it, the follower's sessions and frames
/// reach it (`attach`, `acknowledged`, `refused`: the one mapping of a welcome and of an error), and
/// `sendOnEverySession` writes what it says, when it says. One lock, one list of waiters, one way to wait
/// (`wait(until:)`) and to be cancelled while waiting.
final class OutboxDriver: Sendable {
    private struct State {
        var outbox: Outbox
        /// The connection to write on, while there is one.
        var session: ChatSession?
        /// Counts changes, so a waiter that looked before one does not miss it.
        var version = 0
        var waiters: [(token: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextToken: UInt64 = 0
    }

    private let state: Mutex<State>

    init(_ outbox: Outbox) {
        self.state = Mutex(State(outbox: outbox))
    }

    /// Reads the outbox.
    func read<Value>(_ body: (Outbox) -> Value) -> Value {
        self.state.withLock { body($0.outbox) }
    }

    /// Changes the outbox and wakes whoever waits on it.
    @discardableResult
    func update<Value>(_ body: (inout Outbox) -> Value) -> Value {
        let (value, waiters) = self.state.withLock { state in
            let value = body(&state.outbox)
            state.version += 1
            defer { state.waiters = [] }
            return (value, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume() }
        return value
    }

    /// Returns once `condition` holds of the outbox (at once if it does), or once the task is cancelled.
    func wait(until condition: (Outbox) -> Bool) async {
        while !Task.isCancelled {
            let (holds, version) = self.state.withLock { (condition($0.outbox), $0.version) }
            if holds { return }
            await self.waitForChange(after: version)
        }
    }

    private func waitForChange(after version: Int) async {
        let token = self.state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLock { state in
                    if state.version != version || Task.isCancelled { return true }
                    state.waiters.append((token, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let cancelled = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.token == token }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            cancelled?.resume()
        }
    }

    /// A new connection (its welcome says the server's limits and epoch), or with nil, the end of one.
    func attach(_ session: ChatSession?) {
        // The session first: a sender woken by the change below finds the session it was woken for.
        self.state.withLock { $0.session = session }
        self.update { outbox in
            guard let session else {
                outbox.disconnected()
                return
            }
            let limits = session.welcome.limits
            outbox.connected(
                rate: limits.rateLimit,
                burst: limits.burst,
                maxMessageBytes: limits.maxMessageBytes,
                epoch: session.welcome.epoch
            )
        }
    }

    /// The server acknowledged message `ack.id`.
    func acknowledged(_ ack: Ack) {
        self.update { $0.acknowledged(ack.id, seq: ack.seq) }
    }

    /// The server refused a frame: a message of ours that was rate limited goes again later, one refused
    /// for good leaves the outbox (`.unknown`: the id is none of ours). Nil for an error about no message.
    @discardableResult
    func refused(_ error: ServerError) -> Outbox.Refusal? {
        guard let id = error.id else { return nil }
        return self.update {
            $0.refused(
                id,
                rateLimited: error.code == ChatErrorCode.rateLimited,
                retryAfter: .seconds(error.retryAfter ?? 1),
                now: .now
            )
        }
    }

    /// Sends on each attached session in turn until the outbox is finished. A failed write means the
    /// connection is going: the follower reconnects, and the next session sends everything unacknowledged
    /// again, in order — so a resend and a new message can never swap places.
    func sendOnEverySession() async {
        while !Task.isCancelled {
            await self.wait { $0.isConnected }
            let (connection, session) = self.state.withLock { ($0.outbox.connections, $0.session) }
            if let session {
                do {
                    try await self.send(on: session)
                    return
                } catch {}
            }
            await self.wait { !$0.isConnected || $0.connections != connection }
        }
    }

    /// Starts the close handshake on the attached session, if there is one: the sender is done.
    func closeSession() async {
        guard let session = self.state.withLock({ $0.session }) else { return }
        await session.close()
    }

    /// Writes what the outbox says on `session` until it is finished (returns), the outbox is told the
    /// connection is gone (throws `connectionLost`), a write fails or the task is cancelled (throws).
    func send(on session: ChatSession) async throws {
        while true {
            let (action, version) = self.state.withLock { ($0.outbox.next(now: .now), $0.version) }
            switch action {
            case .send(let frames):
                try await session.send(contentsOf: frames)
            case .wait(let instant):
                // Nothing may go before then, whatever happens meanwhile.
                try await Task.sleep(until: instant)
            case .idle:
                await self.waitForChange(after: version)
                try Task.checkCancellation()
            case .finished:
                return
            case .disconnected:
                throw ChatClientError.connectionLost("the connection ended")
            }
        }
    }
}
