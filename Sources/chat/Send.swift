import ArgumentParser
import ChatCore
import Logging

/// `chat send`: post messages and exit 0 only once the server acknowledged every one.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send messages; exits 0 once the server acknowledged every one.",
        discussion: """
            With TEXT, the words are one message. Without, every line of standard input is a message \
            (empty lines are skipped, a trailing CR is dropped); --whole sends all of it as one message.

            Exit codes: 0 every message acknowledged; 1 the connection was lost (the count delivered is on \
            stderr); 64 usage; 65 a message was rejected (too large, malformed); 69 the server could not be \
            reached or refused the connection.
            """
    )

    @Argument(help: ArgumentHelp("An optional ws:// URL, then the text of one message.", valueName: "url-and-text"))
    var urlAndText: [String] = []

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Send all of standard input as one message (trailing newlines removed).")
    var whole = false

    func validate() throws {
        if self.whole && !self.split.text.isEmpty {
            throw ValidationError("--whole reads standard input; give either TEXT or --whole.")
        }
    }

    /// The first argument is the URL when it looks like one; the rest is the text.
    private var split: (url: String?, text: [String]) {
        guard let first = self.urlAndText.first, first.contains("://") else { return (nil, self.urlAndText) }
        return (first, Array(self.urlAndText.dropFirst()))
    }

    func run() async throws {
        let logger = bootstrapLogging(level: .error, label: "chat.send")
        let (url, words) = self.split
        do {
            let configuration = try self.connection.configuration(url: url)
            try await ChatClient.withSession(configuration, logger: logger) { session in
                if !words.isEmpty {
                    _ = try await session.publish(SingleMessage(words.joined(separator: " ")))
                } else if self.whole {
                    let text = try await StandardInput.readAll(limit: session.welcome.limits.maxMessageBytes)
                    _ = try await session.publish(SingleMessage(text))
                } else {
                    _ = try await session.publish(StandardInput.lines())
                }
            }
        } catch {
            throw ExitStatus.report(error)
        }
    }
}
