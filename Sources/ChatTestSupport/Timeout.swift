/// The body of `withTimeout` ran out of time.
public struct TimeoutError: Error, CustomStringConvertible {
    /// The time that was allowed.
    public let duration: Duration

    public var description: String { "timed out after \(self.duration)" }
}

/// Runs `body`, cancelling it and throwing `TimeoutError` when it takes longer than `duration`.
public func withTimeout<T: Sendable>(
    _ duration: Duration,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw TimeoutError(duration: duration)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimeoutError(duration: duration) }
        return result
    }
}
