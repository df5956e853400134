import ChatProtocol
import NIOCore
import Testing

struct ClientFrameTests {
    @Test(arguments: [
        (#"{"type":"message","text":"hi"}"#, ClientFrame.message(id: nil, text: "hi")),
        (#"{"type":"message","id":"c-1","text":"hi"}"#, .message(id: "c-1", text: "hi")),
        (#"  {"type":"message","text":"x","extra":[1,2]}"#, .message(id: nil, text: "x")),
        (#"{"type":"nick","name":"bob"}"#, .nick(name: "bob")),
        (#"{"type":"message","id":"d-1","to":"bob","text":"hi"}"#, .direct(id: "d-1", to: "bob", text: "hi")),
        (#"{"type":"message","to":"bob","text":"hi","id":null}"#, .direct(id: nil, to: "bob", text: "hi")),
        (#"{"type":"message","to":null,"text":"hi"}"#, .message(id: nil, text: "hi")),
        (#"{"type":"typing"}"#, .typing),
        ("hello", .message(id: nil, text: "hello")),
        ("[1,2]", .message(id: nil, text: "[1,2]")),
        ("42", .message(id: nil, text: "42")),
        ("  ", .message(id: nil, text: "  ")),
        ("multi\nline", .message(id: nil, text: "multi\nline")),
    ])
    func validFramesDecode(_ text: String, _ expected: ClientFrame) throws {
        #expect(try ClientFrame.decode(text) == expected)
    }

    @Test(arguments: [
        ("", "empty message"),
        ("{", "malformed JSON"),
        (#"{"type":"message","text":"a"} trailing"#, "malformed JSON"),
        (#"{"text":"hi"}"#, "missing 'type'"),
        (#"{"type":"shout","text":"hi"}"#, "unknown type 'shout'; expected 'message', 'nick' or 'typing'"),
        (#"{"type":"message"}"#, "a message needs 'text'"),
        (#"{"type":"message","text":""}"#, "'text' is empty"),
        (#"{"type":"message","text":42}"#, "'text' must be a string"),
        (#"{"type":7}"#, "'type' must be a string"),
        (#"{"type":"message","id":"","text":"a"}"#, "'id' must be 1 to 128 characters"),
        (#"{"type":"nick"}"#, "a nick needs 'name'"),
        (#"{"type":"message","to":"","text":"a"}"#, "'to' is empty"),
        (#"{"type":"message","to":7,"text":"a"}"#, "'to' must be a string"),
    ])
    func invalidObjectsAreBadRequests(_ text: String, _ message: String) {
        #expect(throws: ServerError(code: "bad_request", message: message)) { try ClientFrame.decode(text) }
    }

    /// Found by FuzzClientFrame: the fast path kept a repeated key's last value, JSONDecoder its first.
    @Test func aRepeatedKeyMeansWhatJSONDecoderSays() throws {
        let json = #"{"type":"message","id":"d-1","to":"age","id":"d-1","to":"bobob","text":"psst"}"#
        #expect(try ClientFrame.decode(json) == .direct(id: "d-1", to: "age", text: "psst"))
    }

    @Test func aRejectionNamesTheIdOfTheMessageItIsAbout() {
        #expect(throws: ServerError(code: "bad_request", message: "'text' is empty", id: "c-7")) {
            try ClientFrame.decode(#"{"type":"message","id":"c-7","text":""}"#)
        }
    }

    @Test func anOverlongIdIsRejected() {
        let id = String(repeating: "x", count: 129)
        #expect(throws: ServerError.self) { try ClientFrame.decode(#"{"type":"message","id":"\#(id)","text":"a"}"#) }
    }

    @Test(arguments: [
        ClientFrame.message(id: "c-1", text: "quote \" and \\ and\nnewline ✓"),
        .message(id: nil, text: "plain"),
        .nick(name: "bob"),
        .direct(id: "d-1", to: "böb", text: "line\nline"),
        .direct(id: nil, to: "bob", text: "x"),
        .typing,
    ])
    func encodedFramesDecodeToThemselves(_ frame: ClientFrame) throws {
        #expect(try ClientFrame.decode(String(buffer: frame.encode())) == frame)
    }
}
