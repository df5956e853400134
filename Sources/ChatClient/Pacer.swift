import ChatProtocol

/// Paces sends a little under the server's announced rate, so a well-behaved sender is never refused.
struct Pacer: Sendable {
    private let rate: Double
    private let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    /// Paces to the server's `rate` and `burst`.
    init(rate: Double, burst: Int) {
        // 95 % of the rate and half the burst: the server's bucket started a moment before ours.
        self.rate = rate * 0.95
        self.burst = max(1, Double(burst) / 2)
        self.tokens = self.burst
    }

    /// Takes a token for one message at `now` and returns nil, or returns how long to wait for one (and
    /// takes nothing: ask again then).
    mutating func admit(now: ContinuousClock.Instant) -> Duration? {
        if let last = self.last {
            self.tokens = min(self.burst, self.tokens + (now - last).inSeconds * self.rate)
        }
        self.last = now
        // Let the bucket run a little into debt and then wait it back to one whole token: sleeping in
        // steps of at least 20 ms, since one timer per message costs more CPU than the sending itself,
        // and the server's burst absorbs the small bunches this makes.
        guard self.tokens - 1 < -0.02 * self.rate else {
            self.tokens -= 1
            return nil
        }
        return .nanoseconds(Int64((1 - self.tokens) / self.rate * 1e9))
    }
}
