/// How a `join` run ended.
public enum JoinOutcome: Sendable {
    /// /quit, Ctrl-D or end of input, with everything delivered.
    case finished
    /// Ended by a key or a signal: Ctrl-C (130), SIGTERM (143), SIGHUP (129).
    case exit(Int32)
    /// The connection could not be kept, or messages were left undelivered.
    case failed(any Error)
}

extension JoinOutcome {
    /// How following the room ended: `.finished` when it stopped or was cancelled (the other side of `join`
    /// ended first), else the connection error.
    static func following(_ body: () async throws -> Void) async -> JoinOutcome {
        do {
            try await body()
            return .finished
        } catch is CancellationError {
            return .finished
        } catch {
            return .failed(error)
        }
    }
}

/// Messages typed but never acknowledged when `join` had to stop.
struct Undelivered: Error, CustomStringConvertible {
    var count: Int
    public var description: String {
        "\(self.count) message\(self.count == 1 ? " was" : "s were") not delivered"
    }
}
