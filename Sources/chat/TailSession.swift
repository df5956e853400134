import ChatClient
import ChatProtocol
import ChatTerminal
import Logging

/// One `chat tail` run: follows the room from where it should start (the state file's seq, else
/// `--since`/`--since-time`/`-n`), prints each message as a line, keeps the state file, and says what it could not
/// replay — or stops there with `--strict`.
struct TailSession: Sendable {
    private var configuration: ClientConfiguration
    private let policy: ReconnectPolicy
    private let format: TranscriptFormat
    private let count: Int?
    /// `--until`, made into a `Regex` by `run` (a `Regex` is not `Sendable`).
    private let until: String?
    private let strict: Bool
    /// `--mentions`: print only the messages that name one of these.
    private let mentions: [String]
    private let stateFile: TailStateFile?

    init(configuration: ClientConfiguration, options: Tail) throws {
        self.configuration = configuration
        self.configuration.history = options.lines
        self.configuration.since = options.since
        self.configuration.sinceTime = options.sinceTime.flatMap { SinceTime.parse($0) }
        self.policy = options.reconnect.policy
        self.format = TranscriptFormat(json: options.json, events: options.events, raw: options.raw)
        self.count = options.count
        self.until = options.until
        self.strict = options.strict
        self.mentions = options.mentions
        self.stateFile = options.stateFile.map(TailStateFile.init(path:))
        if let saved = try self.stateFile?.load(), saved.room == configuration.url.room {
            // Carry on where the last run stopped: everything after the last line it printed.
            self.configuration.since = saved.seq
            self.configuration.epoch = saved.epoch
            self.configuration.history = nil
            self.configuration.sinceTime = nil
        }
    }

    /// Whether `message` is printed: every one, or with `--mentions` those that name someone asked for.
    private func wanted(_ message: ChatMessage) -> Bool {
        self.mentions.isEmpty || self.mentions.contains { Mention.names($0, in: message.text) }
    }

    /// Follows until `--count` messages were printed or one matched `--until` (or forever).
    func run(logger: Logger) async throws {
        var printed = 0
        var epoch = ""
        // `Tail.validate()` checked that it parses.
        let until = try self.until.map { try Regex($0) }
        try await ChatFollower.follow(self.configuration, policy: self.policy, logger: logger) { event in
            switch event {
            case .connected(let welcome):
                epoch = welcome.epoch
                return true
            case .gap(let since, let firstSeq, let epochChanged):
                let message = MissedMessages.describe(since: since, firstSeq: firstSeq, epochChanged: epochChanged)
                if self.strict { throw MissedMessages(description: message) }
                StandardError.warn(message)
                return true
            case .incompleteReplay(let since, let firstSeq):
                let message = MissedMessages.describe(since: since, firstSeq: firstSeq)
                if self.strict { throw MissedMessages(description: message) }
                StandardError.warn(message)
                return true
            case .reconnecting(let attempt, let delay, let reason):
                StandardError.reconnecting(attempt: attempt, delay: delay, reason: reason)
                return true
            case .frame(let frame):
                if case .message(let message) = frame, !self.wanted(message) {
                    // Passed over is handled too: a restart does not read it again.
                    try self.stateFile?.save(.init(room: message.room, epoch: epoch, seq: message.seq))
                    return true
                }
                guard let line = self.format.line(for: frame) else { return true }
                try StandardOutput.writeLine(line)
                guard case .message(let message) = frame else { return true }
                try self.stateFile?.save(.init(room: message.room, epoch: epoch, seq: message.seq))
                printed += 1
                if let until, message.text.contains(until) { return false }
                return self.count.map { printed < $0 } ?? true
            }
        }
    }
}
