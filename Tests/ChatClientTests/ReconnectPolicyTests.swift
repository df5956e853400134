import ChatClient
import ChatProtocol
import Testing

struct ReconnectPolicyTests {
    @Test func ceilingsDoubleFromHalfASecondUpToTwentySeconds() {
        let policy = ReconnectPolicy()
        let ceilings = (1...9).map { policy.ceiling(attempt: $0) }
        #expect(
            ceilings == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(20),
                .seconds(20), .seconds(20),
            ]
        )
    }

    @Test func delaysAreFullJitterWithinTheCeiling() {
        let policy = ReconnectPolicy()
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...12 {
            let delays = (0..<200).map { _ in policy.delay(attempt: attempt, using: &generator) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= policy.ceiling(attempt: attempt) })
            // Spread out, not all at one value: a crowd does not reconnect in lock-step.
            #expect(Set(delays).count > 20)
        }
    }

    @Test func thirtySecondsWithoutAServerCostAboutTenAttempts() {
        // The expected delay of attempt n is half its ceiling; sum them until 30 s pass.
        let policy = ReconnectPolicy()
        var elapsed = Duration.zero
        var attempts = 0
        while elapsed < .seconds(30) {
            attempts += 1
            elapsed += policy.ceiling(attempt: attempts) / 2
        }
        #expect(attempts <= 10)
    }

    @Test func retriesAreCountedAgainstTheLimit() {
        #expect(ReconnectPolicy(maxRetries: 2).allows(attempt: 2))
        #expect(!ReconnectPolicy(maxRetries: 2).allows(attempt: 3))
        #expect(!ReconnectPolicy.never.allows(attempt: 1))
        #expect(ReconnectPolicy().allows(attempt: 1_000))
    }

    @Test(arguments: [
        (ChatClientError.unreachable("h:1", "connection refused"), true),
        (.connectionLost("reset"), true),
        (.closedByServer(code: 1001, reason: "server shutting down"), true),
        (.upgradeRefused("ws://h/ws", status: 429, reason: ""), true),
        (.upgradeRefused("ws://h/ws", status: 503, reason: ""), true),
        (.upgradeRefused("ws://h/ws", status: 404, reason: ""), false),
        (.upgradeRefused("ws://h/ws", status: 400, reason: ""), false),
        (.invalidURL("x", "bad"), false),
        (.protocolViolation("not a chat server"), false),
    ])
    func onlyTroubleThatMayPassIsRetried(_ error: ChatClientError, _ retryable: Bool) {
        #expect(ReconnectPolicy.isRetryable(error) == retryable)
    }
}
