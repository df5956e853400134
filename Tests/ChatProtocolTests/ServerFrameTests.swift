import ChatProtocol
import Foundation
import NIOCore
import Testing

struct ServerFrameTests {
    static let user = ChatUser(id: "u-1", name: "alice")
    static let frames: [ServerFrame] = [
        .welcome(
            Welcome(
                room: "lobby",
                you: user,
                users: [user, ChatUser(id: "u-2", name: "bob")],
                seq: 41,
                epoch: "e1",
                limits: ServerLimits(maxMessageBytes: 65536, maxFrameBytes: 1_048_576, historySize: 1000)
            )
        ),
        .welcome(
            Welcome(
                room: "ops",
                you: user,
                users: [user],
                seq: 0,
                epoch: "e2",
                limits: ServerLimits(maxMessageBytes: 10, maxFrameBytes: 20, historySize: 0),
                recovered: false,
                firstSeq: 7
            )
        ),
        .message(
            ChatMessage(
                room: "lobby",
                seq: 42,
                id: "c-1",
                from: "alice",
                uid: "u-1",
                text: "héllo \"quoted\" \\ back\nslash\t✓ 日本 \u{1}\u{1F600}",
                ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
            )
        ),
        .join(PresenceEvent(room: "lobby", user: user, ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!)),
        .leave(PresenceEvent(room: "lobby", user: user, ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!)),
        .nick(
            PresenceEvent(
                room: "lobby",
                user: user,
                previousName: "al",
                ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
            )
        ),
        .ack(Ack(id: "c-1", seq: 42)),
        .ack(Ack(id: "d-1", seq: nil)),
        .direct(
            DirectMessage(
                room: "lobby",
                id: "d-1",
                from: "alice",
                uid: "u-1",
                to: "bob",
                toUid: "u-2",
                text: "psst \"bob\"\n✓",
                ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!
            )
        ),
        .typing(PresenceEvent(room: "lobby", user: user, ts: Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!)),
        .error(ServerError(code: "too_large", message: "message is 70000 bytes; the limit is 65536", id: "c-9")),
        .error(ServerError(code: "bad_request", message: "malformed JSON")),
        .error(ServerError(code: "rate_limited", message: "slow down", id: "c-1", retryAfter: 0.25)),
        .error(ServerError(code: "rate_limited", message: "slow down", retryAfter: 0.0001)),
        // Found by FuzzServerFrame: rounded to milliseconds, it came back another number.
        .error(ServerError(code: "rate_limited", message: "slow down", retryAfter: 1.184_467_440_737_095_5e20)),
    ]

    @Test(arguments: Self.frames)
    func encodedFrameDecodesToTheSameValue(_ frame: ServerFrame) throws {
        let encoded = frame.encode()
        let decoded = try JSONDecoder().decode(ServerFrame.self, from: Data(encoded.readableBytesView))
        #expect(decoded == frame)
    }

    @Test(arguments: Self.frames)
    func encodedFrameIsOneLineOfJSONWithTypeFirst(_ frame: ServerFrame) throws {
        let text = String(buffer: frame.encode())
        #expect(text.hasPrefix("{\"type\":\"\(frame.type)\""))
        #expect(!text.contains("\n"))
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }

    @Test func messageHasExactlyTheDocumentedFields() throws {
        let text = String(buffer: Self.frames[2].encode())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["type", "room", "seq", "id", "from", "uid", "text", "ts"])
    }

    @Test func aDirectMessageHasNoSeqAndNamesBothEnds() throws {
        let direct = try #require(Self.frames.first { $0.type == "direct" })
        let text = String(buffer: direct.encode())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["type", "room", "id", "from", "uid", "to", "toUid", "text", "ts"])
        #expect(String(buffer: ServerFrame.ack(Ack(id: "d-1", seq: nil)).encode()) == #"{"type":"ack","id":"d-1"}"#)
    }

    @Test func aWholeNumberOfSecondsHasNoFraction() {
        let frame = ServerFrame.error(ServerError(code: "rate_limited", message: "m", retryAfter: 1))
        #expect(String(buffer: frame.encode()).contains(#""retryAfter":1}"#))
    }

    @Test func controlCharactersAreEscapedAsJSONRequires() {
        let frame = ServerFrame.ack(Ack(id: "a\u{0}b\u{1f}c\"d\\e", seq: 1))
        #expect(String(buffer: frame.encode()) == #"{"type":"ack","id":"a\u0000b\u001fc\"d\\e","seq":1}"#)
    }

    @Test func unknownTypeIsReportedSoClientsCanSkipIt() {
        #expect(throws: ServerFrame.UnknownType(type: "future")) {
            try JSONDecoder().decode(ServerFrame.self, from: Data(#"{"type":"future","x":1}"#.utf8))
        }
    }
}
