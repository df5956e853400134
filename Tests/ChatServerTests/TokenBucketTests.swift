import ChatProtocol
import Testing

@testable import ChatServer

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

struct RateLimiterTests {
    let second: UInt64 = 1_000_000_000

    @Test func nothingOvertakesARefusedMessageHoweverLateItArrives() {
        var limiter = RateLimiter(rate: 10, burst: 1, now: 0)
        #expect(limiter.admit(id: "m-1", now: 0) == nil)
        #expect(limiter.admit(id: "m-2", now: 0) != nil)
        // Long after the bucket refilled, m-3 (sent before the client learned of m-2's refusal) still waits.
        #expect(limiter.admit(id: "m-3", now: 5 * self.second) != nil)
        #expect(limiter.admit(id: nil, now: 5 * self.second) != nil)
        // m-2 comes back first; then the rest in order.
        #expect(limiter.admit(id: "m-2", now: 5 * self.second) == nil)
        #expect(limiter.admit(id: "m-3", now: 6 * self.second) == nil)
    }

    @Test func aRefusedIdThatNeverComesBackIsGivenUpOn() {
        var limiter = RateLimiter(rate: 10, burst: 1, now: 0)
        _ = limiter.admit(id: "a", now: 0)
        #expect(limiter.admit(id: "b", now: 0) != nil)
        #expect(limiter.admit(id: "c", now: 31 * self.second) == nil)
    }

    @Test func messagesWithoutIdsOnlyMeetTheBucket() {
        var limiter = RateLimiter(rate: 10, burst: 1, now: 0)
        #expect(limiter.admit(id: nil, now: 0) == nil)
        #expect(limiter.admit(id: nil, now: 0) != nil)
        #expect(limiter.admit(id: nil, now: self.second) == nil)
    }

    @Test func withoutARateOnlyOverloadRefusesAndKeepsTheOrderToo() {
        var limiter = RateLimiter(rate: 0, burst: 1, now: 0)
        for _ in 1...100 { #expect(limiter.admit(id: nil, now: 0) == nil) }
        #expect(limiter.admit(id: "m-1", now: 0, overloaded: true) == RateLimiter.overloadedRetry)
        // The overload is over, but m-2 was sent behind m-1: it waits for m-1's resend.
        #expect(limiter.admit(id: "m-2", now: self.second) != nil)
        #expect(limiter.admit(id: "m-1", now: self.second) == nil)
        #expect(limiter.admit(id: "m-2", now: self.second) == nil)
    }
}
