import ArgumentParser
import ChatBench
import ChatClient
import ChatProtocol
import ChatTerminal

/// The exit codes README.md documents (sysexits.h values where one fits).
enum ExitStatus {
    /// A message was rejected by the server (too large, malformed).
    static let rejected: Int32 = 65
    /// The server could not be reached, or refused the WebSocket upgrade.
    static let unavailable: Int32 = 69
    /// `send --timeout` passed before every message was acknowledged.
    static let timedOut: Int32 = 75
    /// The server refused the token (401) or the origin (403).
    static let accessDenied: Int32 = 77
    /// `tail --strict`: messages were missed that the server could no longer replay.
    static let gap: Int32 = 3
    /// `tail --timeout` passed before `--count` or `--until` was met (what `timeout(1)` exits with).
    static let tailTimedOut: Int32 = 124

    /// Prints `chat: error: …` on stderr and returns the exit code for `error`.
    static func report(_ error: any Error) -> ExitCode {
        StandardError.line("chat: error: \(error)")
        return ExitCode(Self.code(for: error))
    }

    private static func code(for error: any Error) -> Int32 {
        switch error {
        case let error as ChatClientError:
            switch error.kind {
            case .usage: return ExitCode.validationFailure.rawValue
            case .refused where error.isAccessDenied: return Self.accessDenied
            case .unreachable, .refused, .untrusted: return Self.unavailable
            case .disconnected, .protocolViolation: return ExitCode.failure.rawValue
            }
        case let error as PublishError:
            switch error.reason {
            case .rejected, .tooLarge: return Self.rejected
            case .timedOut: return Self.timedOut
            case .connection(let cause): return Self.code(for: cause)
            }
        case is TokenFile.Unreadable, is UsageError:
            return ExitCode.validationFailure.rawValue
        case is MissedMessages:
            return Self.gap
        case is TailTimeout:
            return Self.tailTimedOut
        case is ExpectedReply.TimedOut:
            return Self.timedOut
        case is BenchRunner.Failure:
            return Self.unavailable
        default:
            return ExitCode.failure.rawValue
        }
    }
}

/// Runs a command's body: what it throws becomes one `chat: error: …` line on stderr and the exit code
/// README documents; a reader of stdout that went away (`chat tail | head -n 1`) ends it quietly with 0;
/// an `ExitCode` the body chose passes through.
func withExitStatus(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch is StandardOutput.ReaderGone {
        return
    } catch let code as ExitCode {
        throw code
    } catch {
        throw ExitStatus.report(error)
    }
}

/// A usage mistake only the command can see (beyond what argument-parser checks): exit 64.
struct UsageError: Error, CustomStringConvertible {
    var description: String
}
