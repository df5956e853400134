import ArgumentParser
import ChatCore
import Foundation

/// The exit codes README.md documents (sysexits.h values where one fits).
enum ExitStatus {
    /// A message was rejected by the server (too large, malformed).
    static let rejected: Int32 = 65
    /// The server could not be reached, or refused the WebSocket upgrade.
    static let unavailable: Int32 = 69

    /// Prints `chat: error: …` on stderr and returns the exit code for `error`.
    static func report(_ error: any Error) -> ExitCode {
        let message = "chat: error: \(error)\n"
        FileHandle.standardError.write(Data(message.utf8))
        return ExitCode(Self.code(for: error))
    }

    private static func code(for error: any Error) -> Int32 {
        switch error {
        case let error as ChatClientError:
            switch error.kind {
            case .usage: return ExitCode.validationFailure.rawValue
            case .unreachable, .refused: return Self.unavailable
            case .disconnected, .protocolViolation: return ExitCode.failure.rawValue
            }
        case let error as PublishError:
            switch error.reason {
            case .rejected, .tooLarge: return Self.rejected
            case .connection(let cause): return Self.code(for: cause)
            }
        default:
            return ExitCode.failure.rawValue
        }
    }
}
