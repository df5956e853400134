import ChatProtocol
import ChatTerminal
import Testing

struct InputCommandTests {
    @Test(arguments: [
        ("hello", InputCommand.say("hello")),
        ("", .nothing),
        ("//tmp is full", .say("/tmp is full")),
        ("/me waves", .me("waves")),
        ("/ME  waves twice", .me("waves twice")),
        ("/nick alice", .nick("alice")),
        ("/who", .who),
        ("/help", .help),
        ("/quit", .quit),
        ("/exit", .quit),
        ("/rooms", .rooms),
        ("/join ops", .join("ops")),
        ("/join #ops", .join("ops")),
        ("/join", .join(nil)),
        ("/join no such room", .invalid("/join needs a room name: 1 to 64 of A-Z a-z 0-9 . _ -")),
        ("/me", .invalid("/me needs an action: /me waves")),
        ("/nick", .invalid("/nick needs a name: /nick alice")),
        (
            "/frobnicate now",
            .invalid("unknown command /frobnicate; /help lists them, //text sends text starting with /")
        ),
    ])
    func linesAreParsed(_ line: String, _ command: InputCommand) {
        #expect(InputCommand(line: line) == command)
    }

    @Test func onlyMessagesAndActionsSendText() {
        #expect(InputCommand(line: "hi").messageText == "hi")
        #expect(InputCommand(line: "/me waves").messageText == "/me waves")
        #expect(InputCommand(line: "//me too").messageText == "/me too")
        #expect(InputCommand(line: "/who").messageText == nil)
        #expect(InputCommand(line: "/bogus").messageText == nil)
    }
}
