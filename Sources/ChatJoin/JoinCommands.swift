import ChatClient
import ChatProtocol
import ChatTerminal

/// What a line typed into `join` does — the same with a terminal or without; only where it shows
/// (`JoinOutput`) differs.
struct JoinCommands: Sendable {
    /// What the input loop does next.
    enum Next: Equatable {
        case carryOn
        /// `/join ROOM`: leave this room for that one.
        case move(RoomName)
        /// `/quit`.
        case quit
    }

    let room: RoomName
    let configuration: ClientConfiguration
    let conversation: ChatConversation
    let shared: JoinState
    let renderer: TranscriptRenderer
    let output: any JoinOutput

    func perform(_ line: String) async -> Next {
        let command = InputCommand(line: line)
        if let text = command.messageText {
            self.conversation.send(text)
            if self.shared.isConnected == false { self.output.info(["not connected: sending once reconnected"]) }
            return .carryOn
        }
        switch command {
        case .nick(let name):
            self.conversation.rename(name)
        case .msg, .reply:
            switch self.shared.direct(command) {
            case .success(let direct): self.conversation.send(direct.text, to: direct.to)
            case .failure(let refusal): self.output.notice(refusal.hint)
            }
        case .who:
            self.output.show(self.renderer.members(self.shared.names))
        case .help:
            self.output.info(InputCommand.helpLines)
        case .invalid(let hint):
            self.output.notice(hint)
        case .rooms where !self.output.movesBetweenRooms, .join where !self.output.movesBetweenRooms:
            self.output.notice("/rooms and /join need a terminal; use chat rooms, or another URL")
        case .rooms:
            await self.listRooms()
        case .join(nil):
            self.output.info(["you are in # \(self.room)"])
        case .join(let room?) where room == self.room:
            self.output.info(["you are in # \(room) already"])
        case .join(let room?):
            return .move(room)
        case .quit:
            return .quit
        case .say, .me, .nothing:
            break
        }
        return .carryOn
    }

    /// `/rooms`: the table `chat rooms` prints; a short wait, as typing waits for it.
    private func listRooms() async {
        var configuration = self.configuration
        configuration.connectTimeout = .seconds(3)
        do {
            let list = try await ChatHTTP.rooms(configuration)
            self.output.info(RoomTable.lines(list.rooms, now: .now()))
        } catch {
            self.output.notice("cannot list the rooms: \(error)")
        }
    }
}
