import Synchronization

/// A weighted semaphore for what is in flight: `acquire` before sending, `release` on each ack.
///
/// Bounding what is unacknowledged — in messages and in bytes — lets a sender stream a large input at
/// full speed without holding it all in memory, and keeps the echo of its own messages from piling up
/// in the server's queue for it.
final class SendWindow: Sendable {
    private struct State {
        var available: Int
        var waiters: [(token: UInt64, weight: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: (any Error)?
        var nextToken: UInt64 = 0
    }

    private let capacity: Int
    private let state: Mutex<State>

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State(available: capacity))
    }

    /// The weight actually taken for `weight`: one item larger than the whole window goes alone.
    func clamped(_ weight: Int) -> Int {
        min(max(weight, 0), self.capacity)
    }

    /// Waits until `weight` is free (in order of asking); throws once the window failed, or when the
    /// waiting task is cancelled (a run that ends must not hang on a full window).
    func acquire(_ weight: Int = 1) async throws {
        let weight = self.clamped(weight)
        let token = self.state.withLock { state -> UInt64 in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = self.state.withLock { state in
                    if let failure = state.failure { return .failure(failure) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.waiters.isEmpty && state.available >= weight {
                        state.available -= weight
                        return .success(())
                    }
                    state.waiters.append((token, weight, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let cancelled = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.token == token }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    /// Gives `weight` back, waking the waiters it now fits, oldest first.
    func release(_ weight: Int = 1) {
        let woken = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.available = min(state.available + self.clamped(weight), self.capacity)
            var woken: [CheckedContinuation<Void, any Error>] = []
            while let first = state.waiters.first, first.weight <= state.available {
                state.available -= first.weight
                woken.append(first.continuation)
                state.waiters.removeFirst()
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Fails every waiter and every later `acquire`.
    func fail(_ error: any Error) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.failure = state.failure ?? error
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// Waits until the whole window is free again: everything sent was acknowledged.
    func drain() async throws {
        try await self.acquire(self.capacity)
        self.release(self.capacity)
    }
}
