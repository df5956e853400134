public import ChatProtocol

/// A chat endpoint: `ws[s]://HOST[:PORT][/PREFIX]/ws[/ROOM][?QUERY]`.
public struct ChatURL: Sendable, Hashable, CustomStringConvertible {
    /// The host name or address (IPv6 without brackets).
    public var host: String
    /// The TCP port (80, or 443 for `wss://`, when the URL gives none).
    public var port: Int
    /// `wss://`: the connection is TLS.
    public var secure: Bool
    /// The path up to and including `/ws`.
    public var basePath: String
    /// The room.
    public var room: RoomName
    /// Query parameters of the URL that the client passes on as they are.
    public var extraQuery: String

    /// Parses a URL; `ws://host:port` with no path means the lobby at `/ws`.
    public init(parsing text: String) throws(ChatClientError) {
        let lowered = text.lowercased()
        let secure = lowered.hasPrefix("wss://")
        guard secure || lowered.hasPrefix("ws://") else {
            throw .invalidURL(text, "expected ws://HOST:PORT/ws[/ROOM] (or wss:// for TLS)")
        }
        let rest = text.dropFirst(secure ? 6 : 5)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var remainder = rest[authorityEnd...]
        if let fragment = remainder.firstIndex(of: "#") { remainder = remainder[..<fragment] }
        guard !authority.contains("@") else { throw .invalidURL(text, "user names in URLs are not supported") }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(text, "unclosed '[' in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL(text, "expected ':' after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .invalidURL(text, "no host") }
        if let problem = Self.hostProblem(host, bracketed: authority.hasPrefix("[")) {
            throw .invalidURL(text, problem)
        }
        var port = secure ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .invalidURL(text, "the port must be a number from 1 to 65535")
            }
            port = value
        }

        let (path, query) = Self.split(remainder)
        let (basePath, room) = try Self.splitRoom(path, url: text)
        self.host = String(host)
        self.port = port
        self.secure = secure
        self.basePath = basePath
        self.room = room
        self.extraQuery = String(query)
    }

    /// Parses a comma-separated list of URLs (`ws://a:8000/ws,ws://b:8000/ws`): the servers of one
    /// cluster, tried in turn.
    public static func list(parsing text: String) throws(ChatClientError) -> [ChatURL] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var urls: [ChatURL] = []
        for part in parts {
            let trimmed = String(part).trimmingWhitespace()
            guard !trimmed.isEmpty else { throw .invalidURL(text, "an empty entry in the list of servers") }
            urls.append(try ChatURL(parsing: trimmed))
        }
        return urls
    }

    /// The same endpoint in another room, named by the user: an invalid name is an error.
    public func with(room: String) throws(ChatClientError) -> ChatURL {
        guard let room = RoomName(room) else {
            throw .invalidURL(self.description, "invalid room '\(room)': use 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return self.with(room: room)
    }

    /// The same endpoint in another room.
    public func with(room: RoomName) -> ChatURL {
        var copy = self
        copy.room = room
        return copy
    }

    /// The request path: `/ws` for the lobby, `/ws/ROOM` otherwise.
    public var path: String {
        self.room == RoomName.lobby ? self.basePath : self.basePath + "/" + self.room.rawValue
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var authority: String {
        (self.host.contains(":") ? "[\(self.host)]" : self.host) + ":\(self.port)"
    }

    public var description: String { "\(self.secure ? "wss" : "ws")://\(self.authority)\(self.path)" }

    /// Why `host` cannot be a host name or address, or nil: a name has no white space, control character or
    /// URL delimiter, and a colon only inside the brackets of an IPv6 address (which has hex digits, colons
    /// and dots, and perhaps a `%zone`) — so that the URL prints back as it was read.
    private static func hostProblem(_ host: Substring, bracketed: Bool) -> String? {
        if bracketed {
            let (address, zone) =
                host.firstIndex(of: "%").map { (host[..<$0], host[host.index(after: $0)...]) }
                ?? (host, nil)
            guard address.contains(":"), address.allSatisfy({ $0 == ":" || $0 == "." || $0.isHexDigit }),
                zone.map({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }) ?? true
            else { return "'[\(host)]' is not an IPv6 address" }
            return nil
        }
        if host.contains(":") { return "an IPv6 address goes in brackets: ws://[::1]:8000/ws" }
        let delimiters: Set<Character> = ["[", "]", "<", ">", "\"", "{", "}", "|", "\\", "^", "`", "%"]
        guard
            !host.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control
                    || $0.properties.generalCategory == .format
            }), !host.contains(where: delimiters.contains)
        else { return "'\(host)' is not a host name" }
        return nil
    }

    private static func split(_ text: Substring) -> (Substring, Substring) {
        guard let mark = text.firstIndex(of: "?") else { return (text, "") }
        return (text[..<mark], text[text.index(after: mark)...])
    }

    private static func splitRoom(_ path: Substring, url: String) throws(ChatClientError) -> (String, RoomName) {
        var trimmed = path
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty { return ("/ws", RoomName.lobby) }
        if trimmed.hasSuffix("/ws") { return (String(trimmed), RoomName.lobby) }
        guard let slash = trimmed.lastIndex(of: "/") else {
            throw .invalidURL(url, "expected the path /ws or /ws/ROOM")
        }
        let base = trimmed[..<slash]
        let room = trimmed[trimmed.index(after: slash)...]
        guard base.hasSuffix("/ws") else { throw .invalidURL(url, "expected the path /ws or /ws/ROOM") }
        guard let name = RoomName(room) else {
            throw .invalidURL(url, "invalid room '\(room)': use 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return (String(base), name)
    }
}
