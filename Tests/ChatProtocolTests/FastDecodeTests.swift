import ChatProtocol
import Foundation
import NIOCore
import Testing

/// The Foundation-free decoding of `message`, `direct` and `ack` frames must agree with `JSONDecoder` on everything
/// it accepts, and hand everything unusual back (nil) rather than guess.
struct FastDecodeTests {
    private func fast(_ json: String) -> ServerFrame? {
        var json = json
        return json.withUTF8 { ServerFrame.decodeFast(UnsafeRawBufferPointer($0)) }
    }

    private func foundation(_ json: String) throws -> ServerFrame {
        try JSONDecoder().decode(ServerFrame.self, from: Data(json.utf8))
    }

    @Test(arguments: [
        "plain", "", "quote \" and backslash \\ and slash /", "tab\tnewline\ncarriage\r", "\u{01}\u{1F}\u{7F}",
        "héllo ✓ 日本 😀", "\u{202E}rtl", "{\"type\":\"ack\"}", "\u{FEFF}bom", String(repeating: "x", count: 70_000),
    ])
    func ourOwnEncodingRoundTrips(_ text: String) throws {
        let message = ChatMessage(
            room: "lobby",
            seq: 42,
            id: "s-1",
            from: "al ice",
            uid: "u-1",
            text: text,
            ts: Timestamp(millisecondsSince1970: 1_764_000_000_123)
        )
        let json = String(buffer: ServerFrame.message(message).encode())
        #expect(self.fast(json) == .message(message))
        #expect(try self.foundation(json) == .message(message))
        let direct = ServerFrame.direct(
            DirectMessage(
                room: "lobby",
                id: "d-1",
                from: "al ice",
                uid: "u-1",
                to: "bøb",
                toUid: "u-2",
                text: text,
                ts: Timestamp(millisecondsSince1970: 1_764_000_000_123)
            )
        )
        let directJSON = String(buffer: direct.encode())
        #expect(self.fast(directJSON) == direct)
        #expect(try self.foundation(directJSON) == direct)
    }

    @Test(arguments: [
        #"{"type":"ack","id":"c-7","seq":18446744073709551615}"#,
        #"{"type":"ack","id":"d-7"}"#,
        #"{"type":"direct","room":"r","id":"i","from":"f","uid":"u","to":"t","toUid":"v","text":"é","ts":"2026-11-25T14:03:05.123Z","new":1}"#,
        #" { "seq" : 3 , "type" : "ack" , "id" : "x" , "extra" : [1] } "#,
        #"{"type":"message","room":"r","seq":1,"id":"i","from":"f","uid":"u","text":"\u00e9\ud83d\ude00\/\b\f","ts":"2026-11-25T14:03:05.123Z","new":null}"#,
        #"{"type":"message","room":"r","seq":0,"id":"i","from":"f","uid":"u","text":"a","ts":"2026-11-25T14:03:05.123Z","flag":true,"n":false}"#,
    ])
    func otherSpellingsAgreeWithJSONDecoder(_ json: String) throws {
        let decoded = try self.foundation(json)
        // A nested value (the array above) is left to JSONDecoder; everything flat is decoded here.
        if json.contains("[") {
            #expect(self.fast(json) == nil)
        } else {
            #expect(self.fast(json) == decoded)
        }
    }

    @Test(arguments: [
        #"{"type":"ack","id":"x","seq":-1}"#, #"{"type":"ack","id":"x","seq":1.5}"#,
        #"{"type":"ack","id":"x","seq":01}"#,
        #"{"type":"ack","id":"x","seq":1e3}"#, #"{"type":"ack","id":"x","seq":18446744073709551616}"#,
        #"{"type":"ack","id":"x\q","seq":1}"#, "{\"type\":\"ack\",\"id\":\"x\u{01}\",\"seq\":1}",
        #"{"type":"ack","id":"\ud83d","seq":1}"#, #"{"type":"ack","id":"x","seq":1"#,
        #"{"type":"ack","id":"x","seq":1} x"#,
        #"{"type":"ack","id":"x","seq":1,}"#, #"{"type":"ack","seq":1}"#, #"{"type":"ack","id":5,"seq":1}"#,
        #"{"type":"direct","room":"r","id":"i","from":"f","uid":"u","text":"a","ts":"2026-11-25T14:03:05.123Z"}"#,
        #"{"type":"ack","id":"x","seq":"1"}"#,
        #"{"type":"welcome","room":"r"}"#, #"{"type":"join","user":{"id":"u","name":"n"}}"#, #"[1]"#, "",
        // A repeated key: JSONDecoder keeps the first value; the fast path does not guess.
        #"{"type":"ack","id":"a","seq":1,"id":"b"}"#, #"{"type":"ack","type":"ack","id":"a","seq":1}"#,
    ])
    func anythingUnusualIsLeftToJSONDecoder(_ json: String) {
        #expect(self.fast(json) == nil)
    }

    /// The typed fields are checked on both paths: a time that is not RFC 3339 or a room that is not a
    /// room name makes the frame undecodable, never a message with a made-up value.
    @Test(arguments: [
        #"{"type":"message","room":"r","seq":1,"id":"i","from":"f","uid":"u","text":"a","ts":"yesterday"}"#,
        #"{"type":"message","room":"a b","seq":1,"id":"i","from":"f","uid":"u","text":"a","ts":"2026-11-25T14:03:05Z"}"#,
    ])
    func aMessageWithAnUnreadableTimeOrRoomIsRejectedByBoth(_ json: String) {
        #expect(self.fast(json) == nil)
        #expect(throws: DecodingError.self) { try self.foundation(json) }
    }

    @Test func invalidUTF8IsLeftToJSONDecoder() {
        let bytes: [UInt8] = Array(#"{"type":"ack","id":""#.utf8) + [0xC3, 0x28] + Array(#"","seq":1}"#.utf8)
        #expect(bytes.withUnsafeBytes(ServerFrame.decodeFast) == nil)
    }

    @Test func clientFramesTakeTheSameFastPathWithTheSameAnswers() throws {
        #expect(
            try ClientFrame.decode(#"{"type":"message","id":null,"text":"hi \u00e9"}"#)
                == .message(id: nil, text: "hi é")
        )
        #expect(try ClientFrame.decode(#"{"text":"x","type":"nick","name":"bob"}"#) == .nick(name: "bob"))
        // Not flat strings: JSONDecoder decides, with its precise message.
        #expect(throws: ServerError.self) { try ClientFrame.decode(#"{"type":"message","text":5}"#) }
        do {
            _ = try ClientFrame.decode(#"{"type":"message","text":5}"#)
        } catch {
            #expect(error.message == "'text' must be a string")
        }
    }
}
