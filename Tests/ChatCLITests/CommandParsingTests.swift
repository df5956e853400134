import ArgumentParser
import Logging
import Testing

@testable import chat

/// Parsing, in process: options, their defaults and what they refuse (help is pinned in HelpTextTests).
struct CommandParsingTests {
    @Test(arguments: [("4M", 4 << 20), ("1MiB", 1 << 20), ("512k", 512 << 10), ("2G", 2 << 30), ("65536", 65536)])
    func backlogSizesTakeBinarySuffixes(_ argument: String, _ bytes: Int) throws {
        let serve = try #require(
            try ChatCommand.parseAsRoot(["serve", "--max-client-backlog", argument, "--max-total-backlog", "4G"])
                as? Serve
        )
        #expect(serve.maxClientBacklog.bytes == bytes)
        #expect(serve.maxTotalBacklog.bytes == 4 << 30)
    }

    @Test(arguments: ["1.5M", "-1", "M", "4 M", "4T", "99999999999G", "1K", "1G"])
    func badSizesAreUsageErrors(_ argument: String) {
        let refusal = Self.refusal(["serve", "--max-client-backlog", argument])
        #expect(refusal?.code == .validationFailure)
        #expect(refusal?.message.contains("--max-client-backlog") == true, "\(String(describing: refusal))")
    }

    /// How `chat` refuses `arguments`: the exit code and the message it prints (nil: they parsed).
    static func refusal(_ arguments: [String]) -> (code: ExitCode, message: String)? {
        do {
            _ = try ChatCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return (ChatCommand.exitCode(for: error), ChatCommand.message(for: error))
        }
    }

    @Test func serveDefaultsAreTheDocumentedOnes() throws {
        let serve = try #require(try ChatCommand.parseAsRoot(["serve"]) as? Serve)
        #expect(serve.host == "127.0.0.1")
        #expect(serve.port == 8000)
        #expect(serve.history == 1000)
        #expect(serve.maxMessageBytes == 65536)
        #expect(serve.logLevel == .notice)
    }

    @Test(arguments: [
        ["serve", "--port", "70000"],
        ["serve", "--history", "-1"],
        ["serve", "--max-message-bytes", "0"],
        ["serve", "--log-level", "loud"],
        ["tail", "-n", "-1"],
        ["tail", "--count", "0"],
        ["tail", "--until", "("],
        ["tail", "--timeout", "0"],
        ["tail", "--since-time", "2x"],
        ["tail", "--since-time", "1h", "--since", "3"],
        ["tail", "--since-time", "1h", "-n", "3"],
        ["send", "--quiet", "--progress"],
        ["tail", "--state-file", "f", "--room", "a", "--room", "b"],
        ["tail", "--since", "3", "--room", "a", "--room", "b"],
        ["send", "--whole", "text"],
        ["frobnicate"],
    ])
    func invalidInvocationsAreUsageErrors(_ arguments: [String]) {
        let refusal = Self.refusal(arguments)
        #expect(refusal?.code == .validationFailure, "exit 64")
        // The message names what was wrong: the option, or the word that is not a command.
        let culprit = arguments.count > 1 ? arguments[1] : arguments[0]
        #expect(refusal?.message.contains(culprit) == true, "\(String(describing: refusal))")
    }

    @Test func sendTakesTheURLOnlyWhenItLooksLikeOne() throws {
        let withURL = try #require(try ChatCommand.parseAsRoot(["send", "ws://h:1/ws/ops", "deploy", "done"]) as? Send)
        #expect(withURL.urlAndText == ["ws://h:1/ws/ops", "deploy", "done"])
        let textOnly = try #require(try ChatCommand.parseAsRoot(["send", "deploy", "done"]) as? Send)
        #expect(textOnly.urlAndText == ["deploy", "done"])
    }

    @Test func tailOptionsParse() throws {
        let tail = try #require(
            try ChatCommand.parseAsRoot([
                "tail", "ws://h:1/ws", "--json", "-n", "5", "--since", "9", "--count", "2", "--events",
            ])
                as? Tail
        )
        #expect(tail.url == "ws://h:1/ws")
        #expect(tail.json && tail.events)
        #expect(tail.lines == 5 && tail.since == 9 && tail.count == 2)
    }
}
