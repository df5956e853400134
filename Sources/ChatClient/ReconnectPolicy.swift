import ChatProtocol

/// When and how often a client reconnects after losing its connection.
///
/// Delays follow "full jitter" exponential backoff: attempt n waits a random time between 0 and
/// `min(maxDelay, initialDelay · 2ⁿ⁻¹)`, so a crowd of clients does not reconnect in lock-step, and a
/// dead server costs a handful of attempts a minute rather than a busy loop.
public struct ReconnectPolicy: Sendable, Equatable {
    /// The ceiling of the first delay.
    public var initialDelay: Duration
    /// The largest ceiling.
    public var maxDelay: Duration
    /// A connection that lasted this long counts as stable: the next loss starts again at attempt 1.
    public var resetAfter: Duration
    /// How many reconnection attempts in a row before giving up; nil for no limit.
    public var maxRetries: Int?

    /// Creates a policy.
    public init(
        initialDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(20),
        resetAfter: Duration = .seconds(60),
        maxRetries: Int? = nil
    ) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.resetAfter = resetAfter
        self.maxRetries = maxRetries
    }

    /// Never reconnect.
    public static let never = ReconnectPolicy(maxRetries: 0)

    /// Whether attempt `attempt` (1 for the first retry) is allowed.
    public func allows(attempt: Int) -> Bool {
        self.maxRetries.map { attempt <= $0 } ?? true
    }

    /// The ceiling of attempt `attempt`'s delay: `initialDelay · 2^(attempt-1)`, at most `maxDelay`.
    public func ceiling(attempt: Int) -> Duration {
        var ceiling = self.initialDelay
        for _ in 1..<max(attempt, 1) {
            ceiling = ceiling * 2
            if ceiling >= self.maxDelay { return self.maxDelay }
        }
        return min(ceiling, self.maxDelay)
    }

    /// A random delay for attempt `attempt`, between zero and its ceiling.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = self.ceiling(attempt: attempt)
        let milliseconds = Int64(ceiling.inSeconds * 1000)
        return .milliseconds(Int64.random(in: 0...max(milliseconds, 1), using: &generator))
    }

    /// After a connection failed or was lost with `error`: counts the attempt (starting again at 1 after a
    /// stable connection) and returns how long to wait before it.
    /// - Throws: `error` itself when it is not worth a retry or the policy's retries are used up, and
    ///   `CancellationError` when the task is cancelled (its caller is done: no retry report wanted).
    public func nextAttempt(
        after error: any Error,
        connectedFor: Duration,
        attempt: inout Int,
        using generator: inout some RandomNumberGenerator
    ) throws -> Duration {
        try Task.checkCancellation()
        guard Self.isRetryable(error) else { throw error }
        if connectedFor >= self.resetAfter { attempt = 0 }
        attempt += 1
        guard self.allows(attempt: attempt) else { throw error }
        return self.delay(attempt: attempt, using: &generator)
    }

    /// Whether losing or failing a connection with `error` is worth another attempt: network trouble and
    /// server restarts are; a refused upgrade (4xx but 429), a bad URL or a foreign protocol are not.
    public static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? ChatClientError else { return false }
        switch error.kind {
        case .unreachable, .disconnected:
            return true
        case .refused:
            guard let status = error.code else { return false }
            return status == 429 || status >= 500
        case .usage, .protocolViolation, .untrusted:
            return false
        }
    }
}
