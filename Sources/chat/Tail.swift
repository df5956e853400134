import ArgumentParser
import ChatProtocol
import ChatTerminal
import Logging

/// `chat tail`: print a room's messages, one line each, as they arrive.
struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a room's messages as they arrive, one line each.",
        discussion: """
            Text lines are 'HH:MM:SS <name> text' in local time; control characters and escape sequences \
            are shown escaped (newlines as \\n, a backslash as \\\\). --json prints the wire message objects \
            with the exact text. Direct messages to tail's own name (--name) are printed too, as \
            'HH:MM:SS <alice -> bob> text' (type "direct" in JSON); they are not kept, so a resume cannot \
            bring back one sent while tail was away. Exits 0 after --count messages, after the message --until matches, or \
            quietly when its reader goes away (chat tail | head -n 1); exits 124 when --timeout passes first.

            It waits for its server and reconnects by itself (unless --no-reconnect), resuming after the last \
            message it printed: no gap, no duplicate. Messages the server can no longer replay are reported \
            on stderr; with --strict that ends tail with exit code 3.
            """
    )

    @Argument(help: "The server URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).")
    var url: String?

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print one JSON object per line: the wire message (and, with --events, event) objects.")
    var json = false

    @Option(name: [.customShort("n"), .customLong("lines")], help: "Replay the last N messages first (default: none).")
    var lines: Int?

    @Option(help: "Replay every message after this seq first, when the server still has them.")
    var since: UInt64?

    @Option(
        help: ArgumentHelp(
            "Replay what was said from this time on first: RFC 3339, a local date and time, or a span back from now (10m, 2h, 1d).",
            valueName: "when"
        )
    )
    var sinceTime: String?

    @Option(help: "Exit 0 after printing this many messages (default: run until stopped).")
    var count: Int?

    @Option(
        help: ArgumentHelp(
            "Exit 0 after printing the first message whose text matches this regular expression.",
            valueName: "regex"
        )
    )
    var until: String?

    @Option(
        help: ArgumentHelp(
            "Exit 124 when this many seconds pass before --count or --until is met (default: no limit).",
            valueName: "seconds"
        )
    )
    var timeout: Double?

    @Flag(
        help:
            "Print text exactly as received, control characters and escape sequences included (they can drive your terminal)."
    )
    var raw = false

    @Option(
        help: ArgumentHelp(
            "Print only the messages that mention this name (@name, or name: first) or are sent to it directly; repeatable.",
            valueName: "name"
        )
    )
    var mentions: [String] = []

    @Flag(help: "Also print join, leave and nick events.")
    var events = false

    @Flag(help: "Exit 3 when messages were missed that the server can no longer replay.")
    var strict = false

    @Option(help: "Keep the room, epoch and last printed seq in this file, and resume from it when it exists.")
    var stateFile: String?

    @OptionGroup var reconnect: ReconnectOptions

    func validate() throws {
        if let lines = self.lines, lines < 0 { throw ValidationError("-n must be 0 or more.") }
        if let count = self.count, count < 1 { throw ValidationError("--count must be 1 or more.") }
        if let timeout = self.timeout, !(timeout > 0) { throw ValidationError("--timeout must be more than 0.") }
        if let sinceTime = self.sinceTime {
            guard SinceTime.parse(sinceTime) != nil else {
                throw ValidationError("--since-time: '\(sinceTime)' is not a time: \(SinceTime.forms).")
            }
            if self.since != nil || self.lines != nil {
                throw ValidationError("--since-time replays by time; it cannot be combined with --since or -n.")
            }
        }
        if self.connection.rooms.count > 1 {
            if self.stateFile != nil {
                throw ValidationError("--state-file keeps one room's place; follow several rooms without it.")
            }
            if self.since != nil { throw ValidationError("--since is one room's seq; give one --room with it.") }
        }
        if let until = self.until, (try? Regex(until)) == nil {
            throw ValidationError("--until: '\(until)' is not a regular expression.")
        }
    }

    func run() async throws {
        let logger = bootstrapLogging(level: .error, label: "chat.tail")
        try await withExitStatus {
            let session = try TailSession(
                configurations: self.connection.configurations(url: self.url),
                options: self
            )
            try await StandardOutput.whileReaderPresent {
                try await TailTimeout.bound(self.timeout) { try await session.run(logger: logger) }
            }
        }
    }
}
