public import ArgumentParser
import ChatJoin
import Foundation
import Logging

/// `chat join`: chat in a room from the terminal.
struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat in a room: type messages, see everyone's as they arrive.",
        discussion: """
            Messages arrive above the prompt without disturbing what you are typing. The prompt shows the \
            connection: '● lobby alice>' connected, '◌ connecting>', '○ reconnecting in 3s>'; join \
            reconnects by itself and resumes without gaps ('── N messages missed ──' when it cannot).

            Commands: /nick NAME, /me ACTION, /msg NAME TEXT (to one member only; /reply TEXT answers the \
            last one who wrote to you), /who, /rooms, /join ROOM, /help, /quit (or Ctrl-D); //text sends \
            '/text'. Tab completes commands and names. '(bob typing…)' in the prompt: bob is writing. Ctrl-C clears the line, or exits 130 on an empty one. Input history \
            is kept in $XDG_STATE_HOME/chat/history (~/.local/state/chat/history).

            Without a terminal on stdin, each input line is sent (commands work too), messages are printed \
            plainly, and join exits 0 once input ends and every message is acknowledged.
            """
    )

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Argument(help: "The server URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).")
    var url: String?

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Colour names and states; auto colours on a terminal unless NO_COLOR is set.")
    var color: ColorChoice = .auto

    @Option(help: "Ring the terminal bell for messages that mention you, all messages from others, or never.")
    var bell: JoinBell = .mention

    @OptionGroup var reconnect: ReconnectOptions

    func run() async throws {
        let logger = bootstrapLogging(level: .critical, label: "chat.join")
        try await withExitStatus {
            let configuration = try self.connection.configuration(url: self.url)
            let outcome =
                isatty(STDIN_FILENO) == 1
                ? await InteractiveJoin(
                    configuration: configuration,
                    policy: self.reconnect.policy,
                    color: self.useColor,
                    bell: self.bell,
                    logger: logger
                ).run()
                : await PlainJoin(configuration: configuration, policy: self.reconnect.policy, logger: logger).run()
            switch outcome {
            case .finished: return
            case .exit(let code): throw ExitCode(code)
            case .failed(let error): throw error
            }
        }
    }

    private var useColor: Bool {
        switch self.color {
        case .always: return true
        case .never: return false
        case .auto:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            return !noColor && isatty(STDOUT_FILENO) == 1
        }
    }
}

extension JoinBell: ExpressibleByArgument {}
