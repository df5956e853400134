import ChatProtocol
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes data lines to stdout unbuffered, and notices when the reader of a pipe goes away.
///
/// NIO ignores SIGPIPE for the whole process, so a closed pipe shows up only as EPIPE from write(2);
/// that is how `chat tail | head -n 1` learns it may stop.
public enum StandardOutput {
    /// The reader of stdout is gone (EPIPE, or the pipe reported an error).
    public struct ReaderGone: Error {}

    /// Writes `line` and a newline in as few write(2) calls as it takes: one line is never split by buffering.
    public static func writeLine(_ line: String) throws(ReaderGone) {
        var text = line
        text.append("\n")
        let failed = text.withUTF8 { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return true
                }
                offset += written
            }
            return false
        }
        if failed { throw ReaderGone() }
    }

    /// Runs `body`, ending it with `ReaderGone` as soon as stdout is a pipe whose reader closed it —
    /// even while nothing is being written (a quiet room must not keep `tail | head -n 1` alive).
    public static func whileReaderPresent(_ body: @escaping @Sendable () async throws -> Void) async throws {
        guard Self.isPipeOrSocket else { return try await body() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await Self.readerGone()
                throw ReaderGone()
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private static var isPipeOrSocket: Bool {
        var info = stat()
        guard fstat(STDOUT_FILENO, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFSOCK
    }

    /// Returns when poll(2) reports an error or hang-up on stdout, which for a pipe means its reader
    /// closed it, or when the calling task is cancelled. The wait happens on a thread of its own, as poll
    /// blocks; a cancelled wait leaves that thread parked in poll until the process exits.
    private static func readerGone() async {
        let once = ResumeOnce()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                once.set(continuation)
                let thread = Thread {
                    var descriptor = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
                    while true {
                        let ready = poll(&descriptor, 1, -1)
                        if ready > 0 && descriptor.revents & Int16(POLLERR | POLLHUP) != 0 { break }
                        if ready < 0 && errno != EINTR { return }  // cannot watch; writes still see EPIPE
                    }
                    once.resume()
                }
                thread.name = "chat-stdout-watch"
                thread.start()
            }
        } onCancel: {
            once.resume()
        }
    }
}

/// A continuation that is resumed exactly once, by whichever of several parties comes first.
private final class ResumeOnce: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Void, Never>?, resumed: Bool)>((nil, false))

    func set(_ continuation: CheckedContinuation<Void, Never>) {
        let resumeNow = self.state.withLock { state in
            if state.resumed { return true }
            state.continuation = continuation
            return false
        }
        if resumeNow { continuation.resume() }
    }

    func resume() {
        let continuation = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.resumed = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}

/// Diagnostics on stderr, one line each.
public enum StandardError {
    /// Prints `chat: warning: …`.
    public static func warn(_ message: String) {
        Self.line("chat: warning: \(message)")
    }

    /// Prints one line.
    public static func line(_ text: String) {
        Self.write("\(text)\n")
    }

    /// Prints `text` as it is (a progress line that redraws itself ends with no newline).
    public static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

extension StandardError {
    /// `chat: reconnecting in 2.3s (attempt 3): connection refused`.
    public static func reconnecting(attempt: Int, delay: Duration, reason: String) {
        Self.line(Self.reconnectingMessage(attempt: attempt, delay: delay, reason: reason))
    }

    public static func reconnectingMessage(attempt: Int, delay: Duration, reason: String) -> String {
        "chat: reconnecting in \(delay.formattedSeconds) (attempt \(attempt)): \(reason)"
    }
}
