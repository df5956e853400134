import CLibEdit
import Foundation
import Synchronization

/// A line editor on libedit whose partial line survives output from other threads.
///
/// libedit is not thread-safe, so everything it does happens on one thread of the editor's own: a
/// `poll(2)` loop over the terminal, a wake-up pipe and a signal pipe, feeding keystrokes to libedit's
/// readline-compatible callback interface. Other threads only queue requests (print these lines, change
/// the prompt) and wake the loop. A printed line goes above the prompt: the edit area is cleared, the
/// lines written, and libedit redraws the prompt with the partial line and the cursor where they were.
public final class LineEditor: Sendable {
    /// What the user did.
    public enum Event: Sendable, Equatable {
        /// A line was entered (without its newline).
        case line(String)
        /// A key changed the line being edited, which now reads `partial` (never empty): the user is typing.
        case editing(String)
        /// Ctrl-D on an empty line, or the terminal went away.
        case endOfInput
        /// Ctrl-C on an empty line (on a non-empty one it only clears the line, as in a shell).
        case interrupt
        /// SIGTERM or SIGHUP: the terminal is restored and the editor has stopped.
        case terminated(signal: Int32)
    }

    /// How the editor is set up.
    public struct Configuration: Sendable {
        /// The first prompt (it may hold colour codes between `\u{1}` and `\u{2}`).
        public var prompt: String
        /// Where input history is kept between runs (created 0600); nil keeps none.
        public var historyFile: String?
        /// The most lines of history kept.
        public var historyLimit: Int
        /// Tab completion: the candidates for `word`, given whether it starts the line.
        public var completions: @Sendable (_ word: String, _ startsLine: Bool) -> [String]

        public init(
            prompt: String,
            historyFile: String? = nil,
            historyLimit: Int = 1000,
            completions: @escaping @Sendable (_ word: String, _ startsLine: Bool) -> [String] = { _, _ in [] }
        ) {
            self.prompt = prompt
            self.historyFile = historyFile
            self.historyLimit = historyLimit
            self.completions = completions
        }
    }

    enum Request: Sendable {
        case print([String])
        case prompt(String)
        case stop
    }

    /// The user's lines and keys, in order; finishes when the editor has stopped and the terminal is restored.
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let requests = Mutex<[Request]>([])
    private let wake: (read: Int32, write: Int32)
    private let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        (self.events, self.continuation) = AsyncStream.makeStream()
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        }
        self.wake = (ends[0], ends[1])
    }

    /// Takes over the terminal on a thread of its own. Call once, from a process whose stdin is a terminal.
    public func start() {
        let thread = Thread { [self] in
            let editor = EditorThread(
                configuration: self.configuration,
                wakeRead: self.wake.read,
                takeRequests: {
                    self.requests.withLock { requests in
                        defer { requests.removeAll() }
                        return requests
                    }
                },
                emit: { self.continuation.yield($0) }
            )
            editor.run()
            close(self.wake.read)
            close(self.wake.write)
            self.continuation.finish()
        }
        thread.name = "chat line editor"
        thread.start()
    }

    /// Prints `lines` above the prompt, leaving the partial line as it is.
    public func print(_ lines: [String]) {
        self.submit(.print(lines))
    }

    /// Changes the prompt (a new connection state), leaving the partial line as it is.
    public func setPrompt(_ prompt: String) {
        self.submit(.prompt(prompt))
    }

    /// Stops reading, restores the terminal and saves the history; `events` then finishes.
    public func stop() {
        self.submit(.stop)
    }

    private func submit(_ request: Request) {
        self.requests.withLock { $0.append(request) }
        var byte: UInt8 = 1
        _ = write(self.wake.write, &byte, 1)
    }
}
