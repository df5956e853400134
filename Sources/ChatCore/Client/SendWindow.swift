import Synchronization

/// A counting semaphore for messages in flight: `acquire` before sending, `release` on each ack.
///
/// Bounding what is unacknowledged lets a sender stream a large input at full speed without
/// flooding the server or holding the whole input in memory.
final class SendWindow: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var failure: (any Error)?
    }

    private let size: Int
    private let state: Mutex<State>

    init(size: Int) {
        self.size = size
        self.state = Mutex(State(available: size))
    }

    /// Waits for a free slot; throws once the window failed.
    func acquire() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = self.state.withLock { state in
                if let failure = state.failure { return .failure(failure) }
                if state.available > 0 {
                    state.available -= 1
                    return .success(())
                }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Frees a slot, handing it to the oldest waiter.
    func release() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.available = min(state.available + 1, self.size)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }

    /// Fails every waiter and every later `acquire`.
    func fail(_ error: any Error) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.failure = state.failure ?? error
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// Waits until every slot is free again: everything sent was acknowledged.
    func drain() async throws {
        for _ in 0..<self.size { try await self.acquire() }
    }
}
