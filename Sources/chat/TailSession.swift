import ChatClient
import ChatProtocol
import ChatTerminal
import Logging
import Synchronization

/// One `chat tail` run: follows its room — or each of several rooms (`--room a --room b`), each resuming
/// on its own seq, each line prefixed with its room — from where it should start (the state file's seq,
/// else `--since`/`--since-time`/`-n`), prints each message as a line, keeps the state file, and says what
/// it could not replay — or stops there with `--strict`.
struct TailSession: Sendable {
    private var configurations: [ClientConfiguration]
    private let policy: ReconnectPolicy
    private let format: TranscriptFormat
    private let count: Int?
    /// `--until`, made into a `Regex` by `run` (a `Regex` is not `Sendable`).
    private let until: String?
    private let strict: Bool
    /// `--mentions`: print only the messages that name one of these.
    private let mentions: [String]
    private let stateFile: TailStateFile?

    /// What the rooms' followers share: one count for `--count`, and one writer at a time on stdout (a
    /// long line is more than a pipe writes at once: two rooms' lines must not interleave).
    private final class Printed: Sendable {
        private let state = Mutex((count: 0, done: false))

        /// Prints `line` unless the run is done; returns whether the run goes on.
        func print(_ line: String, ends: (Int) -> Bool) throws -> Bool {
            try self.state.withLock { state in
                guard !state.done else { return false }
                try StandardOutput.writeLine(line)
                state.count += 1
                state.done = ends(state.count)
                return !state.done
            }
        }
    }

    init(configurations: [ClientConfiguration], options: Tail) throws {
        self.configurations = configurations
        let sinceTime = options.sinceTime.flatMap { SinceTime.parse($0) }
        for index in self.configurations.indices {
            self.configurations[index].history = options.lines
            self.configurations[index].since = options.since
            self.configurations[index].sinceTime = sinceTime
        }
        self.policy = options.reconnect.policy
        self.format = TranscriptFormat(json: options.json, events: options.events, raw: options.raw)
        self.count = options.count
        self.until = options.until
        self.strict = options.strict
        self.mentions = options.mentions
        self.stateFile = options.stateFile.map(TailStateFile.init(path:))
        if let saved = try self.stateFile?.load(), saved.room == configurations[0].url.room {
            // Carry on where the last run stopped: everything after the last line it printed.
            self.configurations[0].since = saved.seq
            self.configurations[0].epoch = saved.epoch
            self.configurations[0].history = nil
            self.configurations[0].sinceTime = nil
        }
    }

    /// Whether a message is printed: every one, or with `--mentions` those that name someone asked for or
    /// are addressed to them (a direct message, `to`).
    private func wanted(_ text: String, to: String?) -> Bool {
        self.mentions.isEmpty
            || self.mentions.contains { name in
                Mention.names(name, in: text) || to.map { $0.lowercased() == name.lowercased() } ?? false
            }
    }

    /// Follows until `--count` messages were printed or one matched `--until` (or forever); with several
    /// rooms, until that happened in any of them.
    func run(logger: Logger) async throws {
        let printed = Printed()
        guard self.configurations.count > 1 else {
            return try await self.follow(self.configurations[0], prefix: nil, printed: printed, logger: logger)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for configuration in self.configurations {
                let prefix = "[\(configuration.url.room)] "
                group.addTask { try await self.follow(configuration, prefix: prefix, printed: printed, logger: logger) }
            }
            // One room done is the run done (`--count`, `--until`); one that fails ends it too.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Follows one room; `prefix` starts its text lines and its notices when there are several.
    private func follow(
        _ configuration: ClientConfiguration,
        prefix: String?,
        printed: Printed,
        logger: Logger
    ) async throws {
        var epoch = ""
        // `Tail.validate()` checked that it parses.
        let until = try self.until.map { try Regex($0) }
        let said = { (text: String) in (prefix ?? "") + text }
        // What the server could not replay: said on stderr, or the end of the run with --strict.
        func missed(_ description: String) throws -> Bool {
            if self.strict { throw MissedMessages(description: said(description)) }
            StandardError.warn(said(description))
            return true
        }
        try await ChatFollower.follow(configuration, policy: self.policy, logger: logger) { event in
            switch event {
            case .connected(let welcome):
                epoch = welcome.epoch
                return true
            case .gap(let since, let firstSeq, let epochChanged):
                return try missed(MissedMessages.describe(since: since, firstSeq: firstSeq, epochChanged: epochChanged))
            case .incompleteReplay(let since, let firstSeq):
                return try missed(MissedMessages.describe(since: since, firstSeq: firstSeq))
            case .reconnecting(let attempt, let delay, let reason):
                StandardError.reconnecting(attempt: attempt, delay: delay, reason: said(reason))
                return true
            case .frame(let frame):
                // A message of the room, or a direct one to us (which has no seq to resume from).
                let spoken = Said(frame)
                if let spoken, !self.wanted(spoken.text, to: spoken.to) {
                    // Passed over is handled too: a restart does not read it again.
                    if let seq = spoken.seq {
                        try self.stateFile?.save(.init(room: spoken.room, epoch: epoch, seq: seq))
                    }
                    return true
                }
                guard let line = self.format.line(for: frame) else { return true }
                // JSON lines carry their room already.
                let shown = self.format.json ? line : (prefix ?? "") + line
                guard let spoken else {
                    _ = try printed.print(shown) { _ in false }
                    return true
                }
                let goesOn = try printed.print(shown) { count in
                    (until.map { spoken.text.contains($0) } ?? false) || self.count.map { count >= $0 } ?? false
                }
                if let seq = spoken.seq { try self.stateFile?.save(.init(room: spoken.room, epoch: epoch, seq: seq)) }
                return goesOn
            }
        }
    }
}
