import ChatProtocol
import NIOHTTP1

/// What a client asks for in its upgrade request:
/// `/ws[/ROOM]?name=…&since=…&epoch=…&sinceTime=…&history=…`.
struct ConnectRequest: Sendable, Equatable {
    var room: RoomName
    /// The requested name, already normalised; nil when the client gave none.
    var name: String?
    var since: UInt64?
    var epoch: String?
    /// `sinceTime=`: replay what was said from this time on. A `since` given too takes precedence.
    var sinceTime: Timestamp?
    var history: Int?
    /// `?token=`: how a browser page passes the server's token (it cannot set headers on a WebSocket).
    var token: String?

    /// Why a request cannot become a chat connection, as the HTTP answer to give.
    struct Rejection: Error, Equatable {
        var status: HTTPResponseStatus
        var message: String
    }

    /// Parses a request target; `nil` when the path is not a chat endpoint at all (404).
    static func parse(uri: String) -> Result<ConnectRequest, Rejection>? {
        let (path, query) = Self.split(uri)
        let room: RoomName
        if path == "/ws" || path == "/ws/" {
            room = RoomName.lobby
        } else if path.hasPrefix("/ws/") {
            guard let name = RoomName(path.dropFirst(4)) else { return nil }
            room = name
        } else {
            return nil
        }
        var request = ConnectRequest(room: room)
        for (key, value) in Self.parameters(query) {
            switch key {
            case "name":
                guard let name = UserName.normalized(value) else {
                    return .failure(
                        Rejection(
                            status: .badRequest,
                            message: "invalid name: use 1 to \(UserName.maxLength) characters, no control characters"
                        )
                    )
                }
                request.name = name
            case "since":
                guard let since = UInt64(value) else {
                    return .failure(Rejection(status: .badRequest, message: "invalid since: expected a seq number"))
                }
                request.since = since
            case "epoch":
                request.epoch = value
            case "sinceTime":
                guard let time = Timestamp(rfc3339: value) else {
                    return .failure(
                        Rejection(status: .badRequest, message: "invalid sinceTime: expected an RFC 3339 time")
                    )
                }
                request.sinceTime = time
            case "token":
                request.token = value
            case "history":
                guard let count = Int(value), count >= 0 else {
                    return .failure(Rejection(status: .badRequest, message: "invalid history: expected a count"))
                }
                request.history = count
            default:
                // Unknown parameters are ignored so newer clients can talk to older servers.
                continue
            }
        }
        return .success(request)
    }

    init(
        room: RoomName,
        name: String? = nil,
        since: UInt64? = nil,
        epoch: String? = nil,
        sinceTime: Timestamp? = nil,
        history: Int? = nil
    ) {
        self.room = room
        self.name = name
        self.since = since
        self.epoch = epoch
        self.sinceTime = sinceTime
        self.history = history
    }

    /// The `token` parameter of any request target (the echo endpoint has no other parameters).
    static func queryToken(_ uri: String) -> String? {
        Self.parameters(Self.split(uri).query).last { $0.0 == "token" }?.1
    }

    /// The path and the query of a request target.
    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// `application/x-www-form-urlencoded` pairs: `+` is a space, `%XX` a byte.
    private static func parameters(_ query: Substring) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    private static func decode(_ component: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(component.utf8.count)
        var iterator = component.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if let high = iterator.next().flatMap(\.hexDigitValue),
                    let low = iterator.next().flatMap(\.hexDigitValue)
                {
                    bytes.append(high << 4 | low)
                } else {
                    bytes.append(byte)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
