import ChatProtocol

/// Where a cluster's database is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (or `postgresql://`).
///
/// postgres-nio has no URL parser of its own. This one takes what `psql` users write for a TCP
/// connection; the user name and password may be percent-encoded. The password is never printed:
/// `description` shows the URL without it, for logs and errors.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// Whether `store` names a database rather than a SQLite file.
    public static func isDatabaseURL(_ store: String) -> Bool {
        store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")
    }

    /// Parses a `postgres://` URL; the error says what is wrong with it in words.
    public static func parse(_ url: String) throws(ChatServerError) -> PostgresLocation {
        func invalid(_ why: String) -> ChatServerError {
            .storeFailed(path: Self.redacted(url), reason: why)
        }
        guard Self.isDatabaseURL(url), let schemeEnd = Self.afterScheme(url) else {
            throw invalid("not a postgres:// URL")
        }
        var rest = Substring(url[schemeEnd...])
        if rest.contains("?") || rest.contains("#") {
            throw invalid(
                "query parameters are not supported (TLS to PostgreSQL is not either: use a local socket tunnel)"
            )
        }
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("no database name (…/DB)") }
        let database = String(rest[rest.index(after: slash)...])
        rest = rest[..<slash]
        guard !database.isEmpty, !database.contains("/") else { throw invalid("no database name (…/DB)") }
        guard let at = rest.lastIndex(of: "@") else { throw invalid("no user name (USER@HOST)") }
        let credentials = rest[..<at]
        let address = rest[rest.index(after: at)...]
        let user: String
        var password: String?
        let colon = credentials.firstIndex(of: ":")
        guard let decodedUser = Self.decode(credentials[..<(colon ?? credentials.endIndex)]) else {
            throw invalid("bad percent-encoding in the user")
        }
        user = decodedUser
        if let colon {
            guard let decoded = Self.decode(credentials[credentials.index(after: colon)...]) else {
                throw invalid("bad percent-encoding in the password")
            }
            password = decoded
        }
        guard !user.isEmpty else { throw invalid("no user name (USER@HOST)") }
        var host: Substring
        var portText: Substring?
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { throw invalid("unclosed [ in the host") }
            host = address[address.index(after: address.startIndex)..<close]
            let after = address[address.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("bad host")
            }
        } else if let colon = address.lastIndex(of: ":") {
            host = address[..<colon]
            portText = address[address.index(after: colon)...]
        } else {
            host = address
        }
        guard !host.isEmpty else { throw invalid("no host (USER@HOST)") }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("the port \(portText) is not a number from 1 to 65535")
            }
            port = value
        }
        return PostgresLocation(user: user, password: password, host: String(host), port: port, database: database)
    }

    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(self.user)@\(host):\(self.port)/\(self.database)"
    }

    /// The URL as given, its password replaced (for an error about a URL that did not parse).
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = Self.afterScheme(url),
            let at = url[schemeEnd...].lastIndex(of: "@"),
            let colon = url[schemeEnd..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// Where the URL goes on after its `scheme://`.
    private static func afterScheme(_ url: String) -> String.Index? {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return nil }
        return url.index(colon, offsetBy: 3)
    }

    private static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(\.hexDigitValue),
                let low = iterator.next().flatMap(\.hexDigitValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
