import ArgumentParser
import Logging
import Testing

@testable import chat

/// Parsing and help, in process: help only changes on purpose.
struct CommandParsingTests {
    @Test func rootHelpListsTheCommands() {
        #expect(
            ChatCommand.helpMessage(columns: 100) == """
                OVERVIEW: A scriptable real-time chat for the shell: server, client, pipes.

                Every client command takes an optional URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws). The
                room is the URL path: /ws is the room 'lobby', /ws/ops the room 'ops'.

                USAGE: chat <subcommand>

                OPTIONS:
                  --version               Show the version.
                  -h, --help              Show help information.

                SUBCOMMANDS:
                  serve                   Run a chat server.
                  join                    Chat in a room: type messages, see everyone's as they arrive.
                  send                    Send messages; exits 0 once the server acknowledged every one.
                  tail                    Print a room's messages as they arrive, one line each.
                  bench                   Load-test a server: fan-out throughput, latency, CPU and memory.

                  See 'chat help <subcommand>' for detailed help.
                """
        )
    }

    @Test func sendHelpDocumentsTheExitCodes() {
        #expect(
            ChatCommand.helpMessage(for: Send.self, columns: 100) == """
                OVERVIEW: Send messages; exits 0 once the server acknowledged every one.

                With TEXT, the words are one message. Without, every line of standard input is a message (empty
                lines are skipped, a trailing CR is dropped); --whole sends all of it as one message.

                A lost connection is made again (unless --no-reconnect) and every unacknowledged message is resent
                in order with its id; the server stores each id once.

                --expect REGEX then waits for a message from someone else matching REGEX and prints it (like tail;
                --json for the wire object): a request/response step in a script. --timeout covers both.

                Exit codes: 0 every message acknowledged (and, with --expect, a match printed); 1 the connection
                was lost for good (the count delivered is on stderr); 64 usage; 65 a message was rejected (too
                large, malformed); 69 the server could not be reached, refused the connection or has a certificate
                that does not verify; 75 --timeout passed; 77 the server refused the token (401) or origin (403).

                USAGE: chat send [<url-and-text> ...] [--name <name>] [--room <room>] [--token-file <file>] [--ca-file <file>] [--insecure] [--whole] [--timeout <timeout>] [--expect <expect>] [--json] [--no-reconnect] [--max-retries <max-retries>]

                ARGUMENTS:
                  <url-and-text>          An optional ws:// URL, then the text of one message.

                OPTIONS:
                  --name <name>           The name to chat as; the server adds a suffix if it is taken (default:
                                          $CHAT_NAME, else $USER, else guest-xxxx).
                  --room <room>           The room to use instead of the URL's (default: the URL's room, lobby for
                                          /ws).
                  --token-file <file>     A file whose first line is the server's token (default: $CHAT_TOKEN, else
                                          none).
                  --ca-file <file>        For wss://, also trust the CA certificates in this PEM file (a private
                                          CA).
                  --insecure              For wss://, do not check the server's certificate at all (a warning says
                                          so).
                  --whole                 Send all of standard input as one message (trailing newlines removed).
                  --timeout <timeout>     Give up after this many seconds, exit 75 (default: no limit).
                  --expect <expect>       After sending, wait for a message from someone else matching this regular
                                          expression and print it.
                  --json                  With --expect, print the matching message as its wire JSON object.
                  --no-reconnect          Do not reconnect after a lost connection; fail instead.
                  --max-retries <max-retries>
                                          Give up after this many reconnection attempts in a row (default: no
                                          limit).
                  --version               Show the version.
                  -h, --help              Show help information.

                """
        )
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
        ["send", "--whole", "text"],
        ["frobnicate"],
    ])
    func invalidInvocationsAreUsageErrors(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try ChatCommand.parseAsRoot(arguments) }
        #expect(ChatCommand.exitCode(for: ValidationError("x")) == .validationFailure)
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
