import ArgumentParser
import ChatCore
import Logging

/// `chat tail`: print a room's messages, one line each, as they arrive.
struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a room's messages as they arrive, one line each.",
        discussion: """
            Text lines are 'HH:MM:SS <name> text' in local time; control characters and escape sequences \
            are shown escaped (newlines as \\n, a backslash as \\\\). --json prints the wire message objects \
            with the exact text. Exits 0 after --count messages, or quietly when its reader goes away \
            (chat tail | head -n 1).
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

    @Option(help: "Exit 0 after printing this many messages (default: run until stopped).")
    var count: Int?

    @Flag(help: "Also print join, leave and nick events.")
    var events = false

    func validate() throws {
        if let lines = self.lines, lines < 0 { throw ValidationError("-n must be 0 or more.") }
        if let count = self.count, count < 1 { throw ValidationError("--count must be 1 or more.") }
    }

    func run() async throws {
        let logger = bootstrapLogging(level: .error, label: "chat.tail")
        let format = TranscriptFormat(json: self.json, events: self.events)
        do {
            var configuration = try self.connection.configuration(url: self.url)
            configuration.history = self.lines
            configuration.since = self.since
            let count = self.count
            let session = configuration
            let since = self.since
            try await StandardOutput.whileReaderPresent {
                try await ChatClient.withSession(session, logger: logger) { session in
                    if session.welcome.recovered == false, let since {
                        let first = session.welcome.firstSeq.map { "\($0)" } ?? "?"
                        StandardError.warn(
                            "cannot resume after seq \(since): the server's history starts at seq \(first); messages before it are missing"
                        )
                    }
                    var printed = 0
                    for try await frame in session.events {
                        guard let line = format.line(for: frame) else { continue }
                        try StandardOutput.writeLine(line)
                        if case .message = frame {
                            printed += 1
                            if let count, printed >= count { return }
                        }
                    }
                }
            }
        } catch is StandardOutput.ReaderGone {
            return  // `chat tail | head -n 1`: the reader is done, and so are we.
        } catch {
            throw ExitStatus.report(error)
        }
    }
}
