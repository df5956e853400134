import ArgumentParser
import ChatClient
import ChatProtocol
import ChatTerminal
import Logging
import NIOCore

/// `chat rooms`: the rooms a server (or a cluster) has.
struct Rooms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the server's rooms: members, last seq, when the last message came.",
        discussion: """
            Asks GET /rooms next to the URL's /ws (the token rule applies). --json prints one object per \
            room: {"name":…,"members":…,"lastSeq":…,"lastActivity":…}. Exit codes as send's: 69 the server \
            could not be reached, 77 it refused the token.
            """
    )

    @Argument(help: "The server URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).")
    var url: String?

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print one JSON object per room instead of a table.")
    var json = false

    func run() async throws {
        _ = bootstrapLogging(level: .error, label: "chat.rooms")
        try await withExitStatus {
            let list = try await ChatHTTP.rooms(try self.connection.configuration(url: self.url))
            if self.json {
                for room in list.rooms {
                    try StandardOutput.writeLine(String(buffer: room.encode()))
                }
            } else {
                for line in RoomTable.lines(list.rooms, now: .now()) { try StandardOutput.writeLine(line) }
            }
            if list.truncated { StandardError.warn("the server listed only its first \(RoomList.limit) rooms") }
        }
    }
}
