import ChatProtocol
import ChatTerminal
import Testing

/// How `join` and `tail` show direct messages, and the prompt's "typing" hint.
struct DirectAndTypingTests {
    let ts = Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
    var direct: ServerFrame {
        .direct(
            DirectMessage(
                room: "lobby",
                id: "d-1",
                from: "alice",
                uid: "u-1",
                to: "bob",
                toUid: "u-2",
                text: "psst \u{1B}[2J",
                ts: self.ts
            )
        )
    }

    @Test func joinShowsADirectMessageWithAnArrowInItsOwnColour() {
        let clock = self.ts.localTimeOfDay
        let plain = TranscriptRenderer(color: false, unicode: true)
        #expect(plain.lines(for: self.direct, isOwn: false) == ["\(clock) <alice → bob> psst \\x1b[2J"])
        let ascii = TranscriptRenderer(color: false, unicode: false, highlight: true)
        #expect(
            ascii.lines(for: self.direct, isOwn: false, mentionsUs: true) == ["\(clock) <alice -> bob> psst \\x1b[2J"]
        )
        let colored = TranscriptRenderer(color: true, unicode: true)
        #expect(
            colored.lines(for: self.direct, isOwn: true) == [
                "\(clock) \u{1B}[1;35m<alice → bob>\u{1B}[0m psst \\x1b[2J"
            ]
        )
    }

    @Test func tailPrintsADirectMessageMarkedAndItsJSONCarriesTo() throws {
        let text = TranscriptFormat(json: false, events: false)
        #expect(text.line(for: self.direct) == "\(self.ts.localTimeOfDay) <alice -> bob> psst \\x1b[2J")
        let json = try #require(TranscriptFormat(json: true, events: false).line(for: self.direct))
        #expect(json.hasPrefix(#"{"type":"direct","room":"lobby","id":"d-1","from":"alice","uid":"u-1","to":"bob""#))
        // Typing notices are never printed, not even with --events.
        let typing = ServerFrame.typing(PresenceEvent(room: "lobby", user: ChatUser(id: "u-1", name: "a"), ts: self.ts))
        #expect(TranscriptFormat(json: true, events: true).line(for: typing) == nil)
    }

    @Test func msgAndReplyParse() {
        #expect(InputCommand(line: "/msg bob are you there?") == .msg("bob are you there?"))
        #expect(InputCommand(line: "/reply on my way") == .reply("on my way"))
        #expect(InputCommand(line: "/msg bob") == .invalid("/msg needs a name and a text: /msg bob hi"))
        #expect(InputCommand(line: "/reply") == .invalid("/reply needs a text: /reply on my way"))
        #expect(InputCommand(line: "/msg bob hi").messageText == nil)
    }

    @Test func theAddresseeIsTheLongestMemberNameTheArgumentStartsWith() {
        let names = ["bob", "bob smith", "carol"]
        #expect(InputCommand.split("bob smith hello", names: names)! == ("bob smith", "hello"))
        #expect(InputCommand.split("BOB hello there", names: names)! == ("BOB", "hello there"))
        #expect(InputCommand.split("dave   hi", names: names)! == ("dave", "hi"))
        #expect(InputCommand.split("bob smith", names: names)! == ("bob", "smith"))
        #expect(InputCommand.split("bob ", names: names) == nil)
    }

    @Test func typistsShowUntilTheirNoticeExpiresOrTheySpeak() {
        let start = ContinuousClock.now
        var typists = Typists()
        let bob = ChatUser(id: "u-2", name: "bob")
        let carol = ChatUser(id: "u-3", name: "carol")
        typists.typing(bob, at: start)
        typists.typing(carol, at: start + .seconds(2))
        #expect(typists.names == ["bob", "carol"])
        // bob's notice is renewed before it ran out; carol's is not.
        typists.typing(bob, at: start + .seconds(4))
        let atSix = typists.expire(at: start + .seconds(6))
        let atSeven = typists.expire(at: start + .seconds(7))
        #expect(!atSix && atSeven)
        #expect(typists.names == ["bob"])
        let first = typists.stopped("u-2")
        let again = typists.stopped("u-2")
        #expect(first && !again)
        #expect(typists.names.isEmpty)
    }

    @Test func thePromptSaysWhoIsTyping() {
        var prompt = Prompt(state: .connected, room: "lobby", name: "alice", unicode: true, color: false)
        prompt.typing = ["bob"]
        #expect(prompt.rendered == "● lobby alice (bob typing…)> ")
        prompt.typing = ["bob", "carol"]
        prompt.unicode = false
        #expect(prompt.rendered == "* lobby alice (bob, carol typing...)> ")
        prompt.typing = ["a", "b", "c"]
        #expect(prompt.rendered == "* lobby alice (3 typing...)> ")
        prompt.state = .connecting
        #expect(prompt.rendered == "~ connecting> ")
    }
}
