import NIOHTTP1

/// What RFC 6455 §4.2.1 asks of an opening handshake, beyond what NIO's upgrader checks (that the
/// `Upgrade`, `Connection`, `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13` headers are there).
///
/// One place for the rules: the upgrader refuses whatever they refuse, and the HTTP answer that follows
/// says why, so a request that is not a real HTTP/1.1 GET never becomes a WebSocket.
enum UpgradeRequirements {
    /// Why a request that asks for a WebSocket cannot have one, as the HTTP answer to give.
    struct Refusal: Equatable {
        var status: HTTPResponseStatus
        var message: String
        var headers: [Header] = []

        struct Header: Equatable {
            var name: String
            var value: String
        }
    }

    /// Whether the request asks to become a WebSocket (`Upgrade: websocket`), well-formed or not.
    static func asksForUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers["Upgrade"].contains { value in
            value.split(separator: ",").contains { $0.trimmingSpaces.lowercased() == "websocket" }
        }
    }

    /// `405` unless `head` is a GET: the one method a WebSocket endpoint answers, upgrade or not.
    static func methodRefusal(for head: HTTPRequestHead) -> Refusal? {
        guard head.method != .GET else { return nil }
        return Refusal(
            status: .methodNotAllowed,
            message: "a WebSocket upgrade is a GET request",
            headers: [Refusal.Header(name: "Allow", value: "GET")]
        )
    }

    /// Nil when `head` is an acceptable opening handshake; else the refusal to answer it with.
    static func refusal(for head: HTTPRequestHead) -> Refusal? {
        if let refusal = Self.methodRefusal(for: head) { return refusal }
        guard head.version.major == 1, head.version.minor >= 1 else {
            return Refusal(status: .badRequest, message: "a WebSocket upgrade needs HTTP/1.1")
        }
        guard head.headers["Host"].count == 1 else {
            return Refusal(status: .badRequest, message: "a WebSocket upgrade needs one Host header")
        }
        let versions = head.headers["Sec-WebSocket-Version"]
        guard versions.count == 1, versions[0].trimmingSpaces == "13" else {
            // RFC 6455 §4.4: say which version this server speaks.
            return Refusal(
                status: .upgradeRequired,
                message: "this server speaks WebSocket version 13",
                headers: [Refusal.Header(name: "Sec-WebSocket-Version", value: "13")]
            )
        }
        let keys = head.headers["Sec-WebSocket-Key"]
        guard keys.count == 1, Self.isValidKey(keys[0].trimmingSpaces) else {
            return Refusal(status: .badRequest, message: "Sec-WebSocket-Key must be 16 bytes in base64")
        }
        return nil
    }

    /// Whether `key` is base64 for exactly 16 bytes: 22 characters of the alphabet and `==`.
    static func isValidKey(_ key: Substring) -> Bool {
        let utf8 = key.utf8
        guard utf8.count == 24, utf8.suffix(2).elementsEqual("==".utf8) else { return false }
        return utf8.prefix(22).allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                true
            default:
                false
            }
        }
    }
}

extension StringProtocol where SubSequence == Substring {
    /// Without the spaces and tabs HTTP allows around a header value.
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) })
        else { return self[self.endIndex...] }
        return self[first...last]
    }
}
