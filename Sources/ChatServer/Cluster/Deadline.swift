import ChatProtocol
import Synchronization

/// A database call that did not finish in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "no answer from the database within \(seconds.formatted) s" }
}

/// Runs `body`, or throws `DeadlineExceeded` after `limit` and leaves it behind.
///
/// postgres-nio 1.33 writes a query to its channel without a promise: a query started on a connection
/// that has just closed (PostgreSQL restarting) is dropped, and its caller waits forever — and cannot be
/// cancelled, because it waits on an `EventLoopFuture`. Seen here in the crash test. So every database
/// call of a node has a deadline, after which the caller goes on (retrying) and the stuck call is
/// abandoned; its connection is closed already, so it holds nothing else. The work runs in unstructured
/// tasks because a child task that never ends would hold its task group forever. (The server's other
/// unstructured tasks bridge synchronous callers: `Admission`'s `completeWithTask` for NIO's upgrader, and
/// `ClusterLog.announceTyping`'s fire-and-forget notice from a frame handler.)
func withDeadline<Value: Sendable>(
    _ limit: Duration,
    _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await race(body, limit: limit)
}

/// Runs `body` until it ends, or returns as soon as the calling task is cancelled, leaving `body`
/// cancelled but unawaited: for the listening connection, whose LISTEN postgres-nio may never finish
/// once its connection has closed, so a graceful shutdown does not wait for it forever.
func abandoningOnCancel(_ body: @escaping @Sendable () async -> Void) async {
    _ = try? await race(body, limit: nil)
}

private func race<Value: Sendable>(
    _ body: @escaping @Sendable () async throws -> Value,
    limit: Duration?
) async throws -> Value {
    let race = DeadlineRace<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            race.pending.withLock { $0 = continuation }
            let work = Task {
                let result = await Result(catching: body)
                race.pending.withLock { $0.take() }?.resume(with: result)
                race.tasks.withLock { $0.timer }?.cancel()
            }
            let timer = Task {
                guard let limit else { return }
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled, let continuation = race.pending.withLock({ $0.take() }) else { return }
                work.cancel()
                continuation.resume(throwing: DeadlineExceeded(seconds: limit.inSeconds))
            }
            race.tasks.withLock { $0 = (work, timer) }
        }
    } onCancel: {
        let (work, timer) = race.tasks.withLock { $0 }
        work?.cancel()
        timer?.cancel()
        race.pending.withLock { $0.take() }?.resume(throwing: CancellationError())
    }
}

/// Whichever of the call and its timer finishes first resumes the caller; the other finds nothing to do.
private final class DeadlineRace<Value: Sendable>: Sendable {
    let pending = Mutex<CheckedContinuation<Value, any Error>?>(nil)
    let tasks = Mutex<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
}

extension Result where Failure == any Error {
    fileprivate init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}

extension Double {
    fileprivate var formatted: String {
        self == self.rounded() ? String(Int64(self)) : String(self)
    }
}
