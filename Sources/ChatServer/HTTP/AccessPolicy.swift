import NIOHTTP1

/// Who may open a chat connection: the shared token (`--token-file`) and the browser origins
/// (`--allow-origin`). Checked before the upgrade, so a refused client gets a plain HTTP 401 or 403.
struct AccessPolicy: Sendable {
    /// Why a request is refused.
    enum Denial: Equatable, Sendable {
        /// No token, or the wrong one.
        case unauthorized
        /// A browser page from another site (Cross-Site WebSocket Hijacking).
        case forbiddenOrigin(String)
    }

    private let token: [UInt8]?
    private let allowedOrigins: Set<String>

    /// - Parameters:
    ///   - token: The token every upgrade must carry; nil lets anyone in.
    ///   - allowedOrigins: Origins allowed besides the server's own (`*` allows every origin).
    init(token: String?, allowedOrigins: [String]) {
        self.token = token.map { Array($0.utf8) }
        self.allowedOrigins = Set(allowedOrigins.map(Self.normalized))
    }

    /// Nil when `head` may upgrade. The origin is checked first: a foreign page learns nothing about tokens.
    func check(_ head: HTTPRequestHead, queryToken: String?) -> Denial? {
        // Clients that are not browsers send no Origin and are not subject to it.
        if let origin = head.headers.first(name: "Origin"),
            !self.allows(origin: origin, host: head.headers.first(name: "Host"))
        {
            return .forbiddenOrigin(origin)
        }
        if let token = self.token {
            guard let presented = Self.bearer(head) ?? queryToken,
                Self.constantTimeEqual(Array(presented.utf8), token)
            else { return .unauthorized }
        }
        return nil
    }

    private func allows(origin: String, host: String?) -> Bool {
        let origin = Self.normalized(origin)
        if self.allowedOrigins.contains("*") || self.allowedOrigins.contains(origin) { return true }
        // The server's own origin: the page it served, at the address the browser used.
        guard let host = host?.lowercased() else { return false }
        return origin == "http://" + host || origin == "https://" + host
    }

    private static func normalized(_ origin: String) -> String {
        var origin = origin.lowercased()
        while origin.hasSuffix("/") { origin.removeLast() }
        return origin
    }

    private static func bearer(_ head: HTTPRequestHead) -> String? {
        guard let value = head.headers.first(name: "Authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].split(separator: " ").first.map(String.init)
    }

    /// Compares in a time that depends only on the secret's length, not on where the first difference is.
    static func constantTimeEqual(_ presented: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == secret.count ? 0 : 1
        for index in secret.indices {
            difference |= (index < presented.count ? presented[index] : 0) ^ secret[index]
        }
        return difference == 0
    }
}
