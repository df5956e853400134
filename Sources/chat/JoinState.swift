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
    }

    private let state: Mutex<State>

    init(prompt: Prompt?) {
        self.state = Mutex(State(prompt: prompt))
    }

    /// A (re)connection: returns the prompt to show, if there is one.
    func connected(_ welcome: Welcome) -> String? {
        self.state.withLock { state in
            state.ownIDs.insert(welcome.you.id)
            state.roster.reset(welcome)
            state.prompt?.state = .connected
            state.prompt?.name = welcome.you.name
            return state.prompt?.rendered
        }
    }

    /// Takes in a frame: returns whether it is our own message, and the prompt if our name changed.
    func apply(_ frame: ServerFrame) -> (isOwn: Bool, prompt: String?) {
        self.state.withLock { state in
            state.roster.apply(frame)
            switch frame {
            case .message(let message):
                return (state.ownIDs.contains(message.uid), nil)
            case .nick(let event) where state.ownIDs.contains(event.user.id):
                state.prompt?.name = event.user.name
                return (false, state.prompt?.rendered)
            default:
                return (false, nil)
            }
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
