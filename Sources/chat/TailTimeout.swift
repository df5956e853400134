import ChatProtocol

/// `tail --timeout`: the run is bounded, and running out of time is exit 124, as `timeout(1)` has it.
struct TailTimeout: Error, CustomStringConvertible {
    var seconds: Double

    var description: String {
        "--timeout passed (\(Duration.milliseconds(Int64(self.seconds * 1000)).formattedSeconds)) before tail was done"
    }

    /// Runs `body`, or throws `TailTimeout` when `seconds` pass first (nil: no bound).
    static func bound(_ seconds: Double?, _ body: @escaping @Sendable () async throws -> Void) async throws {
        guard let seconds else { return try await body() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                throw TailTimeout(seconds: seconds)
            }
            // The first to finish decides: the body done, or the time up.
            try await group.next()
            group.cancelAll()
        }
    }
}
