import ArgumentParser
import ChatClient
import ChatProtocol
import ChatTerminal
import Logging

/// `chat send`: post messages and exit 0 only once the server acknowledged every one.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send messages; exits 0 once the server acknowledged every one.",
        discussion: """
            With TEXT, the words are one message. Without, every line of standard input is a message \
            (empty lines are skipped, a trailing CR is dropped); --whole sends all of it as one message.

            A lost connection is made again (unless --no-reconnect) and every unacknowledged message is \
            resent in order with its id; the server stores each id once.

            --expect REGEX then waits for a message from someone else matching REGEX and prints it (like \
            tail; --json for the wire object): a request/response step in a script. --timeout covers both.

            Exit codes: 0 every message acknowledged (and, with --expect, a match printed); 1 the connection was lost for good (the count delivered \
            is on stderr); 64 usage; 65 a message was rejected (too large, malformed); 69 the server could not \
            be reached, refused the connection or has a certificate that does not verify; 75 --timeout passed; 77 the server refused the token (401) \
            or origin (403).
            """
    )

    @Argument(help: ArgumentHelp("An optional ws:// URL, then the text of one message.", valueName: "url-and-text"))
    var urlAndText: [String] = []

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Send all of standard input as one message (trailing newlines removed).")
    var whole = false

    @Option(help: "Give up after this many seconds, exit 75 (default: no limit).")
    var timeout: Double?

    @Option(help: "After sending, wait for a message from someone else matching this regular expression and print it.")
    var expect: String?

    @Flag(help: "With --expect, print the matching message as its wire JSON object.")
    var json = false

    @OptionGroup var reconnect: ReconnectOptions

    func validate() throws {
        if self.whole && !self.split.text.isEmpty {
            throw ValidationError("--whole reads standard input; give either TEXT or --whole.")
        }
        if let timeout = self.timeout, !(timeout > 0) { throw ValidationError("--timeout must be more than 0.") }
        if let expect = self.expect, (try? Regex(expect)) == nil {
            throw ValidationError("--expect is not a valid regular expression.")
        }
    }

    /// The first argument is the URL when it looks like one; the rest is the text.
    private var split: (url: String?, text: [String]) {
        guard let first = self.urlAndText.first, first.contains("://") else { return (nil, self.urlAndText) }
        return (first, Array(self.urlAndText.dropFirst()))
    }

    /// `--timeout` as a duration.
    private var timeoutDuration: Duration? { self.timeout.map { .seconds($0) } }

    /// `--whole` reads at most this much, whatever the server allows, so memory stays bounded.
    static let wholeInputLimit = 16 << 20

    private func publish(
        configuration: ClientConfiguration,
        idPrefix: String,
        logger: Logger
    ) async throws
        -> ChatPublisher.Result
    {
        let words = self.split.text
        let policy = self.reconnect.policy
        let timeout = self.timeoutDuration
        let progress: @Sendable (ChatPublisher.Progress) -> Void = { progress in
            if case .reconnecting(let attempt, let delay, let reason) = progress {
                StandardError.reconnecting(attempt: attempt, delay: delay, reason: reason)
            }
        }
        func publish<Texts: AsyncSequence & Sendable>(_ texts: Texts) async throws -> ChatPublisher.Result
        where Texts.Element == String {
            try await ChatPublisher.publish(
                texts,
                configuration: configuration,
                options: ChatPublisher.Options(
                    policy: policy,
                    timeout: timeout,
                    idPrefix: idPrefix,
                    progress: progress
                ),
                logger: logger
            )
        }
        if !words.isEmpty {
            return try await publish(SingleMessage(words.joined(separator: " ")))
        } else if self.whole {
            return try await publish(SingleMessage(try await StandardInput.readAll(limit: Self.wholeInputLimit)))
        } else {
            return try await publish(StandardInput.lines())
        }
    }

    /// With --expect: the reply to wait for, from someone else than this run's own messages.
    private func expectedReply(idPrefix: String) -> ExpectedReply? {
        self.expect.map {
            ExpectedReply(
                pattern: $0,
                format: TranscriptFormat(json: self.json, events: false),
                ownIDPrefix: idPrefix + "-"
            )
        }
    }

    func run() async throws {
        let logger = bootstrapLogging(level: .error, label: "chat.send")
        try await withExitStatus {
            let configuration = try self.connection.configuration(url: self.split.url)
            let started = ContinuousClock.now
            let idPrefix = RandomID.make(length: 8)
            let result = try await self.publish(configuration: configuration, idPrefix: idPrefix, logger: logger)
            guard let reply = self.expectedReply(idPrefix: idPrefix) else { return }
            // --timeout bounds the whole run: the wait gets what sending left of it.
            let remaining = self.timeoutDuration.map { $0 - (ContinuousClock.now - started) }
            try await reply.wait(
                after: result,
                configuration: configuration,
                policy: self.reconnect.policy,
                timeout: remaining,
                logger: logger
            )
        }
    }
}
