import ChatProtocol
import Testing

@testable import ChatClient

struct ChatURLTests {
    @Test(arguments: [
        ("ws://127.0.0.1:8000/ws", "127.0.0.1", 8000, "/ws", "lobby"),
        ("ws://example.org/ws/ops", "example.org", 80, "/ws", "ops"),
        ("WS://host:1", "host", 1, "/ws", "lobby"),
        ("ws://[::1]:9000/ws/a.b", "::1", 9000, "/ws", "a.b"),
        ("ws://h:2/chat/ws/x?token=t#frag", "h", 2, "/chat/ws", "x"),
        ("ws://h:2/ws/", "h", 2, "/ws", "lobby"),
        ("wss://chat.example/ws/ops", "chat.example", 443, "/ws", "ops"),
    ])
    func urlsParse(_ text: String, _ host: String, _ port: Int, _ base: String, _ room: String) throws {
        let url = try ChatURL(parsing: text)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.basePath == base)
        #expect(url.room.rawValue == room)
    }

    @Test(arguments: [
        "http://h/ws", "https://h/ws", "h:8000/ws", "ws://", "ws://h:0/ws", "ws://h:70000/ws", "ws://h:x/ws",
        "ws://h/other", "ws://h/ws/bad%room", "ws://u@h/ws", "ws://[::1/ws",
        // Found by FuzzChatURL: a host that would not print back as it was read.
        "ws://a:b:80/ws", "ws://\u{1b}::1]:9000/ws", "ws://[zz]/ws", "ws://[::1%]/ws", "ws://h h/ws", "ws://h\u{0}/ws",
    ])
    func badURLsAreUsageErrors(_ text: String) {
        #expect {
            try ChatURL(parsing: text)
        } throws: { error in
            (error as? ChatClientError)?.kind == .usage
        }
    }

    @Test func anInvalidURLIsQuotedEscapedOnOneLine() {
        #expect {
            try ChatURL(parsing: "ws://evil\u{1b}[2J\nhost/ws")
        } throws: { error in
            "\(error)" == #"invalid URL 'ws://evil\x1b[2J\nhost/ws': 'evil\x1b[2J\nhost' is not a host name"#
        }
    }

    @Test func anIPv6AddressMayHaveAZone() throws {
        let url = try ChatURL(parsing: "ws://[fe80::1%25eth0]:8000/ws")
        #expect(url.host == "fe80::1%25eth0")
        #expect(try ChatURL(parsing: url.description) == url)
    }

    @Test func theRoomCanBeReplaced() throws {
        let url = try ChatURL(parsing: "ws://h:1/ws/ops")
        #expect(try url.with(room: "dev").path == "/ws/dev")
        #expect(try url.with(room: "lobby").path == "/ws")
        #expect(throws: ChatClientError.self) { try url.with(room: "a b") }
        #expect(try url.with(room: "dev").description == "ws://h:1/ws/dev")
        #expect(try ChatURL(parsing: "ws://[::1]:5/ws").description == "ws://[::1]:5/ws")
        #expect(try ChatURL(parsing: "WSS://h/ws/x").description == "wss://h:443/ws/x")
        #expect(try ChatURL(parsing: "wss://h/ws").secure)
        #expect(try !ChatURL(parsing: "ws://h/ws").secure)
    }
}
