import ChatProtocol
import ChatServer
import ChatTerminal
import Synchronization

/// What `join`'s network side and input side share: who is in the room, which ids are ours, the prompt.
final class JoinState: Sendable {
    private struct State {
        var prompt: Prompt?
        var roster = Roster()
        /// This run's user ids, one per connection: messages from them are our own.
        var ownIDs: Set<UserID> = []
        /// Our name now (the server's answer, then our renames): what a mention names.
        var name: String?
    }

    private let state: Mutex<State>

    init(prompt: Prompt?) {
        self.state = Mutex(State(prompt: prompt))
    }

    /// A (re)connection: returns the prompt to show, if there is one.
    func connected(_ welcome: Welcome) -> String? {
        self.state.withLock { state in
            state.ownIDs.insert(welcome.you.id)
            state.name = welcome.you.name
            state.roster.reset(welcome)
            state.prompt?.state = .connected
            state.prompt?.name = welcome.you.name
            return state.prompt?.rendered
        }
    }

    /// What a frame is to us.
    struct Seen {
        /// Our own message.
        var isOwn = false
        /// Someone else's message that names us (`Mention`).
        var mentionsUs = false
        /// The prompt, when our name changed.
        var prompt: String?
    }

    /// Takes in a frame: whose it is, whether it names us, the prompt if our name changed.
    func apply(_ frame: ServerFrame) -> Seen {
        self.state.withLock { state in
            state.roster.apply(frame)
            switch frame {
            case .message(let message):
                let isOwn = state.ownIDs.contains(message.uid)
                let named = state.name.map { Mention.names($0, in: message.text) } ?? false
                return Seen(isOwn: isOwn, mentionsUs: !isOwn && named)
            case .nick(let event) where state.ownIDs.contains(event.user.id):
                state.name = event.user.name
                state.prompt?.name = event.user.name
                return Seen(prompt: state.prompt?.rendered)
            default:
                return Seen()
            }
        }
    }

    /// Moving to `room`: the prompt says so (connecting), and the roster starts over at the next welcome.
    func moving(to room: RoomName) -> String? {
        self.state.withLock { state in
            state.prompt?.room = room
            state.prompt?.state = .connecting
            return state.prompt?.rendered
        }
    }

    /// Changes the prompt's connection state and returns it.
    func promptState(_ connection: Prompt.State) -> String? {
        self.state.withLock { state in
            state.prompt?.state = connection
            return state.prompt?.rendered
        }
    }

    var isConnected: Bool {
        self.state.withLock { $0.prompt?.state == .connected }
    }

    var names: [String] {
        self.state.withLock { $0.roster.names }
    }

    func completions(for word: String, startsLine: Bool) -> [String] {
        self.state.withLock { $0.roster.completions(for: word, startsLine: startsLine) }
    }
}
