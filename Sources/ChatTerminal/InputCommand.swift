public import ChatProtocol

/// What a line typed into `chat join` asks for.
public enum InputCommand: Sendable, Equatable {
    /// A message to send (`//text` sends `/text`).
    case say(String)
    /// `/me waves`: an action, sent as the text `/me waves`.
    case me(String)
    case nick(String)
    /// `/msg NAME text`: a direct message; the argument as typed, for `split(_:)` against the roster
    /// (a name may hold spaces).
    case msg(String)
    /// `/reply text`: a direct message to whoever last wrote to us directly.
    case reply(String)
    case who
    case help
    case quit
    /// `/rooms`: list the server's rooms.
    case rooms
    /// `/join ROOM`: move to another room; `/join` alone says where we are (nil).
    case join(RoomName?)
    /// A `/command` that does not exist, or one used wrongly: say so, send nothing.
    case invalid(String)
    /// An empty line: nothing to do.
    case nothing

    /// The commands, for `/help` and Tab.
    public static let names = ["/help", "/join", "/me", "/msg", "/nick", "/quit", "/reply", "/rooms", "/who"]

    public static let helpLines = [
        "/nick NAME   change your name",
        "/me ACTION   say what you do (* alice waves)",
        "/msg NAME    write to NAME only: /msg bob are you there? (Tab completes NAME)",
        "/reply TEXT  answer whoever last wrote to you directly",
        "/who         who is in the room",
        "/rooms       the rooms there are",
        "/join ROOM   move to another room (/join alone: where you are)",
        "/quit        leave (or Ctrl-D)",
        "//text       send text starting with /",
    ]

    public init(line: String) {
        guard !line.isEmpty else {
            self = .nothing
            return
        }
        guard line.hasPrefix("/") else {
            self = .say(line)
            return
        }
        if line.hasPrefix("//") {
            self = .say(String(line.dropFirst()))
            return
        }
        let command = line.prefix { $0 != " " }
        let argument = line.dropFirst(command.count).drop { $0 == " " }
        switch command.lowercased() {
        case "/me":
            self = argument.isEmpty ? .invalid("/me needs an action: /me waves") : .me(String(argument))
        case "/nick":
            self = argument.isEmpty ? .invalid("/nick needs a name: /nick alice") : .nick(String(argument))
        case "/msg":
            self =
                argument.contains(" ") ? .msg(String(argument)) : .invalid("/msg needs a name and a text: /msg bob hi")
        case "/reply":
            self = argument.isEmpty ? .invalid("/reply needs a text: /reply on my way") : .reply(String(argument))
        case "/who": self = .who
        case "/rooms": self = .rooms
        case "/join" where argument.isEmpty: self = .join(nil)
        case "/join":
            let name = argument.hasPrefix("#") ? argument.dropFirst() : argument
            self = RoomName(name).map { .join($0) } ?? .invalid("/join needs a room name: 1 to 64 of A-Z a-z 0-9 . _ -")
        case "/help": self = .help
        case "/quit", "/exit": self = .quit
        default: self = .invalid("unknown command \(command); /help lists them, //text sends text starting with /")
        }
    }

    /// Splits the argument of `/msg` into the addressee and the text: the longest of `names` it starts with
    /// (ignoring case) followed by a space, else its first word. Nil when no text is left.
    public static func split(_ argument: String, names: [String]) -> (to: String, text: String)? {
        let lowered = argument.lowercased()
        let named = names.filter { lowered.hasPrefix($0.lowercased() + " ") }.max { $0.count < $1.count }
        let name = named.map { String(argument.prefix($0.count)) } ?? String(argument.prefix { $0 != " " })
        let text = argument.dropFirst(name.count).drop { $0 == " " }
        return text.isEmpty ? nil : (name, String(text))
    }

    /// The text sent on the wire for this line, if it sends one.
    public var messageText: String? {
        switch self {
        case .say(let text): text
        case .me(let action): "/me " + action
        default: nil
        }
    }
}
