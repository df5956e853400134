import ChatTerminal
import Synchronization

/// One line at the bottom of stderr that redraws itself in place (`\r`, erase to the end of the line)
/// — `send --progress`, `bench` — with the lines printed meanwhile put above it, and erased at the end.
/// One lock orders every write, so a notice never lands inside the status text.
final class StatusLine: Sendable {
    /// The text shown now; nil when nothing is.
    private let shown = Mutex<String?>(nil)

    /// Shows `text` instead of what was shown.
    func show(_ text: String) {
        self.shown.withLock { shown in
            StandardError.write(Self.erase + text)
            shown = text
        }
    }

    /// Prints `line` as a line of its own, then the status again below it.
    func printAbove(_ line: String) {
        self.shown.withLock { shown in
            StandardError.write(shown == nil ? line + "\n" : Self.erase + line + "\n" + (shown ?? ""))
        }
    }

    /// Erases the status, leaving the cursor where it began.
    func clear() {
        self.shown.withLock { shown in
            if shown != nil { StandardError.write(Self.erase) }
            shown = nil
        }
    }

    /// Back to the start of the line, and erase it.
    private static let erase = "\r\u{1B}[K"
}
