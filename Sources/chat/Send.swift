import ArgumentParser
import ChatClient
import ChatProtocol
import ChatTerminal
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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

            Without --expect, --json prints {"id":…,"seq":…} for every acknowledged message, in input \
            order ({"id":…} with --to). --to NAME writes to that member only; a name nobody in the room \
            has is refused (exit 65). On a terminal, \
            stderr shows one updating line (sent, acknowledged, rate, elapsed; --progress/--no-progress \
            decide); --quiet prints nothing but errors.

            Exit codes: 0 every message acknowledged (and, with --expect, a match printed); 1 the connection was lost for good (the count delivered \
            is on stderr); 64 usage; 65 a message was rejected (too large, malformed, no such member); 69 the server could not \
            be reached, refused the connection or has a certificate that does not verify; 75 --timeout passed; 77 the server refused the token (401) \
            or origin (403).
            """
    )

    @Argument(help: ArgumentHelp("An optional ws:// URL, then the text of one message.", valueName: "url-and-text"))
    var urlAndText: [String] = []

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Send all of standard input as one message (trailing newlines removed).")
    var whole = false

    @Option(help: "Send to this member of the room only, as direct messages (not kept, no seq).")
    var to: String?

    @Option(help: "Give up after this many seconds, exit 75 (default: no limit).")
    var timeout: Double?

    @Option(help: "After sending, wait for a message from someone else matching this regular expression and print it.")
    var expect: String?

    @Flag(
        help:
            #"Print {"id":…,"seq":…} for each acknowledged message, in input order; with --expect, only the match, as its wire object."#
    )
    var json = false

    @Flag(
        inversion: .prefixedNo,
        help:
            "Show one updating line on stderr: sent, acknowledged, rate, elapsed (default: when stderr is a terminal)."
    )
    var progress: Bool?

    @Flag(name: [.customShort("q"), .long], help: "Print nothing on stderr but errors.")
    var quiet = false

    @OptionGroup var reconnect: ReconnectOptions

    func validate() throws {
        if self.whole && !self.split.text.isEmpty {
            throw ValidationError("--whole reads standard input; give either TEXT or --whole.")
        }
        if let timeout = self.timeout, !(timeout > 0) { throw ValidationError("--timeout must be more than 0.") }
        if let to = self.to, UserName.normalized(to) == nil {
            throw ValidationError(
                "--to needs a member's name: 1 to \(UserName.maxLength) characters, no control characters."
            )
        }
        if self.quiet && self.progress == true { throw ValidationError("--quiet shows no progress; give one of them.") }
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

    /// The progress line, when it is shown: asked for, or stderr is a terminal (and not `--quiet`).
    private func makeProgress() -> SendProgress? {
        guard !self.quiet, self.progress ?? (isatty(STDERR_FILENO) == 1) else { return nil }
        return SendProgress()
    }

    private func publish(
        configuration: ClientConfiguration,
        idPrefix: String,
        display: SendProgress?,
        logger: Logger
    ) async throws
        -> ChatPublisher.Result
    {
        let words = self.split.text
        let policy = self.reconnect.policy
        let timeout = self.timeoutDuration
        // With --expect, --json is how the reply is printed (as it was before receipts): stdout stays one object.
        let (json, quiet) = (self.json && self.expect == nil, self.quiet)
        let progress: @Sendable (ChatPublisher.Progress) -> Void = { progress in
            switch progress {
            case .reconnecting(let attempt, let delay, let reason):
                guard !quiet else { return }
                let message = StandardError.reconnectingMessage(attempt: attempt, delay: delay, reason: reason)
                if let display { display.notice(message) } else { StandardError.line(message) }
            case .acknowledged(let receipts, let status):
                // Our ids are a random alphanumeric prefix and a number: nothing in them needs escaping.
                // A reader that went away does not stop the sending (what was read is delivered).
                if json {
                    for receipt in receipts {
                        // A direct message has no seq: its receipt is the id alone.
                        let seq = receipt.seq.map { #","seq":\#($0)"# } ?? ""
                        try? StandardOutput.writeLine(#"{"id":"\#(receipt.id)"\#(seq)}"#)
                    }
                }
                display?.update(status)
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
                    to: self.to,
                    reportsReceipts: json,
                    reportsProgress: display != nil,
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
                ownIDPrefix: idPrefix + "-",
                quiet: self.quiet
            )
        }
    }

    func run() async throws {
        let logger = bootstrapLogging(level: .error, label: "chat.send")
        try await withExitStatus {
            let configuration = try self.connection.configuration(url: self.split.url)
            let started = ContinuousClock.now
            let idPrefix = RandomID.make(length: 8)
            let display = self.makeProgress()
            let publish = { [self] in
                try await self.publish(
                    configuration: configuration,
                    idPrefix: idPrefix,
                    display: display,
                    logger: logger
                )
            }
            let result =
                if let display {
                    try await display.showing(publish)
                } else {
                    try await publish()
                }
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
