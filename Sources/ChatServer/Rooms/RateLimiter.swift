import ChatProtocol

/// A connection's rate limit: a token bucket, plus the rule that keeps a resending client in order.
///
/// Messages are refused when the bucket is empty, or when the server is overloaded (its store behind).
/// After refusing a message with id `k`, every other message is refused until `k` itself comes back (or
/// `holdLimit` passes): whatever the client had already sent behind `k` — however long it took to
/// learn of the refusal — cannot overtake it. Messages without an id never set up such a hold.
struct RateLimiter: Sendable, Equatable {
    /// How long a refused id is waited for before the hold is given up (a client that never resends).
    static let holdLimit: Duration = .seconds(30)

    /// How long a client is told to wait when the server is overloaded.
    static let overloadedRetry: Duration = .milliseconds(100)

    /// Nil when the rate limit is off: then only overload refuses.
    private var bucket: TokenBucket?
    private var awaiting: (id: MessageID, since: UInt64)?

    /// A limiter with a full bucket at `now` (nanoseconds of a monotonic clock); `rate` 0 turns the rate off.
    init(rate: Double, burst: Int, now: UInt64) {
        self.bucket = rate > 0 ? TokenBucket(rate: rate, burst: burst, now: now) : nil
    }

    /// Whether the message with `id` may be accepted now: nil when it may, else how long to wait.
    /// - Parameter overloaded: The server cannot take messages now (its store is behind).
    mutating func admit(id: MessageID?, now: UInt64, overloaded: Bool = false) -> Duration? {
        if let held = self.awaiting {
            if now &- held.since >= UInt64(Self.holdLimit.components.seconds) * 1_000_000_000 {
                self.awaiting = nil
            } else if id != held.id {
                return TokenBucket.minimumPenalty
            } else {
                self.awaiting = nil
            }
        }
        let wait = overloaded ? Self.overloadedRetry : self.bucket?.take(now: now)
        guard let wait else { return nil }
        if let id { self.awaiting = (id, now) }
        return wait
    }

    static func == (lhs: RateLimiter, rhs: RateLimiter) -> Bool {
        lhs.bucket == rhs.bucket && lhs.awaiting?.id == rhs.awaiting?.id && lhs.awaiting?.since == rhs.awaiting?.since
    }
}
