import ArgumentParser
import ChatProtocol

/// `chat`: the root command.
@main
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "A scriptable real-time chat for the shell: server, client, pipes.",
        discussion: """
            Every client command takes an optional URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws). \
            The room is the URL path: /ws is the room 'lobby', /ws/ops the room 'ops'.
            """,
        version: "\(ChatVersion.current) (\(buildCommit))",
        subcommands: [Serve.self, Join.self, Send.self, Tail.self, Rooms.self, Bench.self, AutobahnTesteeCommand.self]
    )
}
