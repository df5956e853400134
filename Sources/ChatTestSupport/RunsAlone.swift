public import Testing

/// A trait for the tests that load the machine or measure real time — thousands of messages, hundreds
/// of clients, a server killed mid-stream, a cluster: they run one at a time, so on a 2-core machine
/// running the rest of the suite in parallel none of them starves another into a timeout.
///
/// Everything else runs in parallel beside them. Applied to a suite, it covers each of its tests.
/// Swift Testing's `.timeLimit` counts the wait for a turn too, so a test's own bound is `limit`, from
/// its turn on; give the suite a `.timeLimit` that covers every turn before it as the backstop.
public struct RunsAloneTrait: TestTrait, SuiteTrait, TestScoping {
    /// How long each test case may take once its turn came.
    public var limit: Duration

    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        // Called for the suite and for each test case: a suite's scope would hold the turn its own tests
        // wait for, so only test cases take one.
        guard !test.isSuite else { return try await function() }
        try await Turns.shared.take {
            // The group `withTimeout` makes waits for every task it started: `function` does not outlive this.
            try await withoutActuallyEscaping(function) { function in
                try await withTimeout(self.limit, function)
            }
        }
    }
}

extension Trait where Self == RunsAloneTrait {
    /// Runs the test (each test of the suite) while no other `.runsAlone` test runs, for at most two
    /// minutes once its turn came.
    public static var runsAlone: Self { RunsAloneTrait(limit: .seconds(120)) }

    /// Runs the test (each test of the suite) while no other `.runsAlone` test runs, for at most `limit`
    /// once its turn came.
    public static func runsAlone(within limit: Duration) -> Self { RunsAloneTrait(limit: limit) }
}

/// One turn at a time, first come first served, for tasks that suspend rather than block a thread.
actor Turns {
    static let shared = Turns()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func take(_ body: @Sendable () async throws -> Void) async throws {
        if self.busy {
            await withCheckedContinuation { self.waiting.append($0) }
        } else {
            self.busy = true
        }
        defer { self.handOver() }
        try await body()
    }

    private func handOver() {
        if self.waiting.isEmpty {
            self.busy = false
        } else {
            self.waiting.removeFirst().resume()
        }
    }
}
