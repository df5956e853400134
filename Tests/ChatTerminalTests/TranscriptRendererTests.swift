import ChatProtocol
import ChatTerminal
import Testing

struct TranscriptRendererTests {
    let plain = TranscriptRenderer(color: false, unicode: true)
    let ts = Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!

    private func message(_ text: String, from name: String = "bob") -> ServerFrame {
        .message(ChatMessage(room: "lobby", seq: 1, id: "m-1", from: name, uid: "u-1", text: text, ts: self.ts))
    }

    private var clock: String { self.ts.localTimeOfDay }

    @Test func messagesOwnMessagesAndActions() {
        #expect(self.plain.lines(for: self.message("hi"), isOwn: false) == ["\(self.clock) <bob> hi"])
        #expect(self.plain.lines(for: self.message("hi"), isOwn: true) == ["\(self.clock) (bob) hi"])
        #expect(self.plain.lines(for: self.message("/me waves"), isOwn: false) == ["\(self.clock) * bob waves"])
    }

    @Test func networkTextIsShownEscapedNamesIncluded() {
        let lines = self.plain.lines(
            for: self.message("\u{1B}]0;pwned\u{7}\u{202E}x", from: "m\u{1B}[31m"),
            isOwn: false
        )
        #expect(lines == ["\(self.clock) <m\\x1b[31m> \\x1b]0;pwned\\x07\\u202ex"])
    }

    @Test func presenceLinesAreDimmedWithColourOnly() {
        let event = PresenceEvent(room: "lobby", user: ChatUser(id: "u-2", name: "carol"), ts: self.ts)
        #expect(self.plain.lines(for: .join(event), isOwn: false) == ["\(self.clock) → carol joined"])
        let colored = TranscriptRenderer(color: true, unicode: false)
        #expect(colored.lines(for: .leave(event), isOwn: false) == ["\u{1B}[2m\(self.clock) <- carol left\u{1B}[0m"])
    }

    @Test func aMentionIsBoldReverseVideoOnATerminalColoursOrNot() {
        for color in [false, true] {
            let terminal = TranscriptRenderer(color: color, unicode: true, highlight: true)
            let line = terminal.lines(for: self.message("@alice look \u{7}"), isOwn: false, mentionsUs: true)
            #expect(line == ["\u{1B}[1;7m\(self.clock) <bob> @alice look \\x07\u{1B}[0m"])
            let action = terminal.lines(for: self.message("/me pokes @alice"), isOwn: false, mentionsUs: true)
            #expect(action == ["\u{1B}[1;7m\(self.clock) * bob pokes @alice\u{1B}[0m"])
        }
        // Without a terminal (plain join), a mention is a line like any other.
        #expect(
            self.plain.lines(for: self.message("@alice"), isOwn: false, mentionsUs: true) == [
                "\(self.clock) <bob> @alice"
            ]
        )
    }

    @Test func aNameHasTheSameColourEverywhere() {
        let colored = TranscriptRenderer(color: true, unicode: true)
        let first = colored.lines(for: self.message("a", from: "Alice"), isOwn: false)
        let second = colored.lines(for: self.message("b", from: "alice"), isOwn: false)
        let code = { (line: String) in line.firstMatch(of: /\x1B\[(\d+)m/)?.1 }
        #expect(code(first[0]) != nil)
        #expect(code(first[0]) == code(second[0]))
    }

    @Test func gapsSayHowManyWhenKnown() {
        #expect(self.plain.gap(since: 10, firstSeq: 23, epochChanged: false) == "── 12 messages missed ──")
        #expect(self.plain.gap(since: 10, firstSeq: 12, epochChanged: false) == "── 1 message missed ──")
        #expect(
            TranscriptRenderer(color: false, unicode: false).gap(since: 10, firstSeq: nil, epochChanged: true)
                == "-- the server restarted; messages may be missing --"
        )
    }
}
