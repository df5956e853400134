/// A token bucket: `rate` messages a second on average, up to `burst` at once.
///
/// Once it refuses a message it keeps refusing for a short penalty, so that every message the client had
/// already sent is refused too, and a client that resends them after `retryAfter` keeps its order.
/// It reads no clock: callers pass `now` in nanoseconds of a monotonic clock.
struct TokenBucket: Sendable, Equatable {
    /// The shortest `retryAfter`: long enough for what a client pipelined to arrive and be refused.
    static let minimumPenalty: Duration = .milliseconds(500)

    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: UInt64
    private var refusingUntil: UInt64?

    /// A full bucket at `now`.
    init(rate: Double, burst: Int, now: UInt64) {
        self.rate = rate
        self.burst = Double(max(burst, 1))
        self.tokens = self.burst
        self.last = now
    }

    /// Takes a token for one message: nil when allowed, else how long the client should wait.
    mutating func take(now: UInt64) -> Duration? {
        let elapsed = Double(now &- self.last) / 1e9
        self.last = now
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        if let until = self.refusingUntil {
            if now < until { return .nanoseconds(Int64(until - now)) }
            self.refusingUntil = nil
        }
        if self.tokens >= 1 {
            self.tokens -= 1
            return nil
        }
        let refill = Duration.nanoseconds(Int64((1 - self.tokens) / self.rate * 1e9))
        let wait = max(refill, Self.minimumPenalty)
        self.refusingUntil =
            now + UInt64(wait.components.seconds) * 1_000_000_000
            + UInt64(wait.components.attoseconds / 1_000_000_000)
        return wait
    }
}
