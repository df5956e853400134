public import ChatProtocol

/// What a client connects to and asks for.
public struct ClientConfiguration: Sendable {
    /// The endpoint in use: one of `servers`.
    public var url: ChatURL
    /// Every server the client may use, in order (`ws://a/ws,ws://b/ws`): after a lost or failed
    /// connection it tries the next. One entry, `url`, unless set.
    public var servers: [ChatURL]
    /// The name to ask for; the server may answer with a different one (see `Welcome.you`).
    public var name: String?
    /// Resume after this seq.
    public var since: UInt64?
    /// The epoch `since` belongs to.
    public var epoch: String?
    /// Replay what was said from this time on (the server ignores it when `since` is set).
    public var sinceTime: Timestamp?
    /// Replay the last N messages first.
    public var history: Int?
    /// How long to wait for the TCP connection.
    public var connectTimeout: Duration
    /// The largest frame accepted from the server.
    public var maxFrameBytes: Int
    /// How long to wait for the server's reply to our close frame.
    public var closeTimeout: Duration
    /// How a `wss://` server's certificate is checked.
    public var tls = ClientTLS()
    /// The server's token, sent as `Authorization: Bearer …` (never in the URL, which logs and `ps` show).
    public var token: String?

    /// Creates a configuration.
    public init(
        url: ChatURL,
        name: String? = nil,
        since: UInt64? = nil,
        epoch: String? = nil,
        history: Int? = nil,
        connectTimeout: Duration = .seconds(10),
        maxFrameBytes: Int = 16 * 1024 * 1024,
        closeTimeout: Duration = .seconds(2)
    ) {
        self.url = url
        self.servers = [url]
        self.name = name
        self.since = since
        self.epoch = epoch
        self.history = history
        self.connectTimeout = connectTimeout
        self.maxFrameBytes = maxFrameBytes
        self.closeTimeout = closeTimeout
    }

    /// Makes the server after the current one in `servers` (the first after the last) the one to use.
    public mutating func moveToNextServer() {
        guard self.servers.count > 1 else { return }
        let index = self.servers.firstIndex(of: self.url).map { ($0 + 1) % self.servers.count } ?? 0
        self.url = self.servers[index]
    }

    /// The request target: the path with `name`, `since`, `epoch`, `sinceTime` and `history` in the query.
    var requestTarget: String {
        var parameters: [String] = []
        if !self.url.extraQuery.isEmpty { parameters.append(self.url.extraQuery) }
        if let name { parameters.append("name=" + Self.percentEncoded(name)) }
        if let since { parameters.append("since=\(since)") }
        if let epoch { parameters.append("epoch=" + Self.percentEncoded(epoch)) }
        if let sinceTime { parameters.append("sinceTime=" + Self.percentEncoded(sinceTime.rfc3339)) }
        if let history { parameters.append("history=\(history)") }
        return parameters.isEmpty ? self.url.path : self.url.path + "?" + parameters.joined(separator: "&")
    }

    /// `text` as a query value: unreserved characters as they are, every other byte %-encoded.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return result
    }
}
