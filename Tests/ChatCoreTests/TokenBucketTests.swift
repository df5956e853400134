import ChatCore
import Testing

struct TokenBucketTests {
    let second: UInt64 = 1_000_000_000

    @Test func aBurstPassesThenTheRateHolds() {
        var bucket = TokenBucket(rate: 10, burst: 3, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        let wait = bucket.take(now: 0)
        #expect(wait == TokenBucket.minimumPenalty)
    }

    @Test func aRefusedClientIsRefusedUntilRetryAfterSoItsOrderSurvives() {
        var bucket = TokenBucket(rate: 10, burst: 1, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) != nil)
        // 0.3 s later a token has refilled, but the penalty still holds: the pipelined rest is refused too.
        #expect(bucket.take(now: 3 * self.second / 10) == .milliseconds(200))
        #expect(bucket.take(now: self.second / 2) == nil)
    }

    @Test func tokensRefillAtTheRateUpToTheBurst() {
        var bucket = TokenBucket(rate: 100, burst: 2, now: 0)
        _ = bucket.take(now: 0)
        _ = bucket.take(now: 0)
        // After a long quiet spell only `burst` tokens are there.
        #expect(bucket.take(now: 60 * self.second) == nil)
        #expect(bucket.take(now: 60 * self.second) == nil)
        #expect(bucket.take(now: 60 * self.second) != nil)
    }

    @Test func aLongRefillWaitIsReportedAsIs() {
        var bucket = TokenBucket(rate: 0.5, burst: 1, now: 0)
        _ = bucket.take(now: 0)
        #expect(bucket.take(now: 0) == .seconds(2))
    }
}
