import ChatProtocol
import NIOHTTP1
import Testing

@testable import ChatServer

/// The request head's bounds, counted byte by byte, and the handshake rules of RFC 6455 §4.2.1.
struct RequestHeadTests {
    private static func scan(
        _ text: String,
        chunk: Int,
        maxBytes: Int = 16 * 1024,
        maxLines: Int = 100
    )
        -> RequestHeadScanner.Verdict
    {
        var scanner = RequestHeadScanner(maxBytes: maxBytes, maxLines: maxLines)
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            let verdict = bytes[start..<end].withUnsafeBytes { scanner.scan($0) }
            if case .complete(let used) = verdict {
                return .complete(headBytesInChunk: start + used)
            }
            if verdict != .incomplete { return verdict }
            start = end
        }
        return .incomplete
    }

    @Test(arguments: [1, 2, 3, 7, 64, 100_000])
    func theVerdictDoesNotDependOnHowTheBytesArrive(_ chunk: Int) {
        let head = "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(Self.scan(head + "body", chunk: chunk) == .complete(headBytesInChunk: head.utf8.count))
        #expect(Self.scan("GET /ws HTTP/1.1\r\nHost: x\r\n", chunk: chunk) == .incomplete)
        let long = "GET /ws HTTP/1.1\r\nX: " + String(repeating: "a", count: 200) + "\r\n\r\n"
        #expect(Self.scan(long, chunk: chunk, maxBytes: 100) == .tooLarge)
    }

    @Test func theByteBoundIsExact() {
        let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        let size = head.utf8.count
        #expect(Self.scan(head, chunk: 5, maxBytes: size) == .complete(headBytesInChunk: size))
        #expect(Self.scan(head, chunk: 5, maxBytes: size - 1) == .tooLarge)
    }

    @Test func theLineBoundCountsTheRequestLine() {
        let headers = (0..<9).map { "X-\($0): y\r\n" }.joined()
        let head = "GET / HTTP/1.1\r\n" + headers + "\r\n"
        #expect(Self.scan(head, chunk: 4, maxLines: 10) == .complete(headBytesInChunk: head.utf8.count))
        #expect(Self.scan(head, chunk: 4, maxLines: 9) == .tooLarge)
    }

    @Test func bareLineFeedsAndLeadingBlankLinesAreUnderstood() {
        #expect(Self.scan("GET / HTTP/1.1\nHost: x\n\n", chunk: 3) == .complete(headBytesInChunk: 24))
        // RFC 9112 §2.2: blank lines before the request line are skipped, not the end of the head.
        #expect(Self.scan("\r\nGET / HTTP/1.1\r\n\r\n", chunk: 1) == .complete(headBytesInChunk: 20))
    }

    private static func head(
        _ method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        dropping: String? = nil,
        replacing: (String, String)? = nil
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders([
            ("Host", "127.0.0.1:8000"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ])
        if let dropping { headers.remove(name: dropping) }
        if let (name, value) = replacing { headers.replaceOrAdd(name: name, value: value) }
        return HTTPRequestHead(version: version, method: method, uri: "/ws", headers: headers)
    }

    @Test func aProperHandshakePasses() {
        #expect(UpgradeRequirements.refusal(for: Self.head()) == nil)
        #expect(UpgradeRequirements.asksForUpgrade(Self.head()))
        #expect(UpgradeRequirements.asksForUpgrade(Self.head(replacing: ("Upgrade", "h2c, WebSocket"))))
        #expect(!UpgradeRequirements.asksForUpgrade(Self.head(dropping: "Upgrade")))
    }

    @Test func eachBrokenRuleHasItsAnswer() {
        #expect(UpgradeRequirements.refusal(for: Self.head(.POST))?.status == .methodNotAllowed)
        #expect(UpgradeRequirements.refusal(for: Self.head(.POST))?.headers == [.init(name: "Allow", value: "GET")])
        #expect(UpgradeRequirements.refusal(for: Self.head(version: .http1_0))?.status == .badRequest)
        #expect(UpgradeRequirements.refusal(for: Self.head(version: .http2))?.status == .badRequest)
        #expect(UpgradeRequirements.refusal(for: Self.head(dropping: "Host"))?.status == .badRequest)
        #expect(
            UpgradeRequirements.refusal(for: Self.head(replacing: ("Sec-WebSocket-Version", "8")))?.status
                == .upgradeRequired
        )
        #expect(
            UpgradeRequirements.refusal(for: Self.head(replacing: ("Sec-WebSocket-Key", "abc")))?.message
                == "Sec-WebSocket-Key must be 16 bytes in base64"
        )
    }

    @Test(arguments: [
        ("dGhlIHNhbXBsZSBub25jZQ==", true),
        ("AAAAAAAAAAAAAAAAAAAAAA==", true),
        ("+/+/+/+/+/+/+/+/+/+/+w==", true),
        ("abc", false),
        ("", false),
        ("dGhlIHNhbXBsZSBub25jZQ", false),
        ("dGhlIHNhbXBsZSBub25jZQ=", false),
        ("dGhlIHNhbXBsZSBub25jZ===", false),
        ("dGhlIHNhbXBsZSBub25j ZQ==", false),
        ("dGhlIHNhbXBsZSBub25jZSBh", false),  // 18 bytes, no padding
    ])
    func keysAreSixteenBytesOfBase64(_ key: String, _ valid: Bool) {
        #expect(UpgradeRequirements.isValidKey(key[...]) == valid)
    }
}
