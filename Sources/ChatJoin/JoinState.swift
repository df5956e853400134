import ChatProtocol
import ChatTerminal
import Synchronization

/// What `join`'s network side and input side share: who is in the room, which ids are ours, the prompt.
final class JoinState: Sendable {
    fileprivate struct State {
        var prompt: Prompt?
        var roster = Roster()
        /// This run's user ids, one per connection: messages from them are our own.
        var ownIDs: Set<UserID> = []
        /// Our name now (the server's answer, then our renames): what a mention names.
        var name: String?
        /// Who last wrote to us directly, for `/reply`.
        var lastDirect: ChatUser?
        var typists = Typists()
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
            state.typists = Typists()
            state.prompt?.typing = []
            return state.prompt?.rendered
        }
    }

    /// What a frame is to us.
    struct Seen {
        /// Our own message.
        var isOwn = false
        /// Someone else's message that names us (`Mention`), or a direct message to us.
        var mentionsUs = false
        /// The prompt, when it changed (our name, who is typing).
        var prompt: String?
    }

    /// Takes in a frame: whose it is, whether it names us, the prompt if it changed.
    func apply(_ frame: ServerFrame, now: ContinuousClock.Instant = .now) -> Seen {
        self.state.withLock { state in
            state.roster.apply(frame)
            switch frame {
            case .message(let message):
                let isOwn = state.ownIDs.contains(message.uid)
                let named = state.name.map { Mention.names($0, in: message.text) } ?? false
                return Seen(isOwn: isOwn, mentionsUs: !isOwn && named, prompt: state.stopTyping(message.uid))
            case .direct(let direct):
                let isOwn = state.ownIDs.contains(direct.uid)
                if !isOwn { state.lastDirect = ChatUser(id: direct.uid, name: direct.from) }
                return Seen(isOwn: isOwn, mentionsUs: !isOwn, prompt: state.stopTyping(direct.uid))
            case .typing(let event) where !state.ownIDs.contains(event.user.id):
                state.typists.typing(event.user, at: now)
                return Seen(prompt: state.showTypists())
            case .leave(let event):
                return Seen(prompt: state.stopTyping(event.user.id))
            case .nick(let event) where state.ownIDs.contains(event.user.id):
                state.name = event.user.name
                state.prompt?.name = event.user.name
                return Seen(prompt: state.prompt?.rendered)
            default:
                return Seen()
            }
        }
    }

    /// Forgets who stopped typing a while ago; the prompt when that changed it.
    func expireTypists(at now: ContinuousClock.Instant = .now) -> String? {
        self.state.withLock { state in
            state.typists.expire(at: now) ? state.showTypists() : nil
        }
    }

    /// Whom `/msg` or `/reply` writes to, and what — or why it cannot.
    func direct(_ command: InputCommand) -> Result<(to: String, text: String), DirectRefusal> {
        self.state.withLock { state in
            switch command {
            case .msg(let argument):
                guard let split = InputCommand.split(argument, names: state.roster.names) else {
                    return .failure(DirectRefusal(hint: "/msg needs a name and a text: /msg bob hi"))
                }
                return .success(split)
            case .reply(let text):
                guard let last = state.lastDirect else {
                    return .failure(DirectRefusal(hint: "nobody has written to you directly yet; /msg NAME text"))
                }
                // Under the name it has now, if it renamed since.
                let name = state.roster.members.first { $0.id == last.id }?.name ?? last.name
                return .success((name, text))
            default:
                return .failure(DirectRefusal(hint: "not a direct message"))
            }
        }
    }

    struct DirectRefusal: Error {
        var hint: String
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

    /// Whether the prompt says connected; nil without a prompt (plain lines say nothing of it).
    var isConnected: Bool? {
        self.state.withLock { state in state.prompt.map { $0.state == .connected } }
    }

    var names: [String] {
        self.state.withLock { $0.roster.names }
    }

    func completions(for word: String, startsLine: Bool) -> [String] {
        self.state.withLock { $0.roster.completions(for: word, startsLine: startsLine) }
    }
}

extension JoinState.State {
    /// `id` is not typing any more: the prompt, when that changed it.
    fileprivate mutating func stopTyping(_ id: UserID) -> String? {
        self.typists.stopped(id) ? self.showTypists() : nil
    }

    fileprivate mutating func showTypists() -> String? {
        self.prompt?.typing = self.typists.names
        return self.prompt?.rendered
    }
}
