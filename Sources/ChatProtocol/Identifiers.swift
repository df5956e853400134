/// An identifier that is a string on the wire and its own type in Swift, so a message id is never passed
/// where a user id belongs.
public protocol StringIdentifier: RawRepresentable<String>, Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByStringInterpolation
{
    /// Wraps `rawValue` as it is.
    init(rawValue: String)
}

extension StringIdentifier {
    /// Wraps `text` as it is.
    public init(_ text: some StringProtocol) {
        self.init(rawValue: String(text))
    }

    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }

    public var description: String { self.rawValue }
}

/// A message's id: the sender's own (1 to `ClientFrame.maxIDLength` characters), or one the server made
/// up for a message sent without one. Unique in its room for the server's de-duplication window.
public struct MessageID: StringIdentifier {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }
}

/// The id the server gave one connection: unique for the server's lifetime (in a cluster, the node's).
public struct UserID: StringIdentifier {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }
}
