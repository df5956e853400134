import ChatProtocol
import ChatTerminal
import Foundation
import NIOCore
import Testing

struct TranscriptFormatTests {
    let message = ServerFrame.message(
        ChatMessage(
            room: "lobby",
            seq: 3,
            id: "c-1",
            from: "bot",
            uid: "u-1",
            text: "build 41\npassed \u{1b}[31m",
            ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
        )
    )
    let join = ServerFrame.join(
        PresenceEvent(
            room: "lobby",
            user: ChatUser(id: "u-2", name: "eve"),
            ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
        )
    )

    @Test func textLinesAreTimeNameAndSanitizedText() throws {
        let line = try #require(TranscriptFormat(json: false, events: false).line(for: self.message))
        let clock = Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!.localTimeOfDay
        #expect(line == "\(clock) <bot> build 41\\npassed \\x1b[31m")
    }

    @Test func jsonLinesAreTheWireObjectWithTheExactText() throws {
        let line = try #require(TranscriptFormat(json: true, events: false).line(for: self.message))
        #expect(!line.contains("\n"))
        #expect(try JSONDecoder().decode(ServerFrame.self, from: Data(line.utf8)) == self.message)
    }

    @Test func eventsOnlyWhenAskedFor() {
        #expect(TranscriptFormat(json: false, events: false).line(for: self.join) == nil)
        #expect(TranscriptFormat(json: false, events: true).line(for: self.join)?.hasSuffix(" -- eve joined") == true)
        #expect(TranscriptFormat(json: false, events: true).line(for: .ack(Ack(id: "x", seq: 1))) == nil)
    }

    @Test func rawPrintsTheTextAsItCameOnlyWhenAskedTo() throws {
        let hostile = ServerFrame.message(
            ChatMessage(
                room: "r",
                seq: 1,
                id: "i",
                from: "m",
                uid: "u",
                text: "\u{1B}[2Jx",
                ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
            )
        )
        let escaped = try #require(TranscriptFormat(json: false, events: false).line(for: hostile))
        let raw = try #require(TranscriptFormat(json: false, events: false, raw: true).line(for: hostile))
        #expect(escaped.hasSuffix(" <m> \\x1b[2Jx"))
        #expect(raw.hasSuffix(" <m> \u{1B}[2Jx"))
    }
}
