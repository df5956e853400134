public import ChatProtocol

/// What a line typed into `chat join` asks for.
public enum InputCommand: Sendable, Equatable {
    /// A message to send (`//text` sends `/text`).
    case say(String)
    /// `/me waves`: an action, sent as the text `/me waves`.
    case me(String)
    case nick(String)
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
    public static let names = ["/help", "/join", "/me", "/nick", "/quit", "/rooms", "/who"]

    public static let helpLines = [
        "/nick NAME   change your name",
        "/me ACTION   say what you do (* alice waves)",
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

    /// The text sent on the wire for this line, if it sends one.
    public var messageText: String? {
        switch self {
        case .say(let text): text
        case .me(let action): "/me " + action
        default: nil
        }
    }
}
