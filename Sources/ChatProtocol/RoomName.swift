/// A room's name: the last segment of `/ws/NAME`, `[A-Za-z0-9._-]{1,64}`. Only valid names can be made,
/// so a `RoomName` needs no further checking.
public struct RoomName: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The room of the bare `/ws` path.
    public static let lobby: RoomName = "lobby"
    /// The longest room name.
    public static let maxLength = 64

    public let rawValue: String

    /// The name, or nil when `rawValue` is not a valid room name.
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The name, or nil when `text` is not a valid room name.
    public init?(_ text: some StringProtocol) {
        self.init(rawValue: String(text))
    }

    /// A name written in the source; it must be valid.
    public init(stringLiteral value: String) {
        precondition(Self.isValid(value), "not a room name: \(value)")
        self.rawValue = value
    }

    public var description: String { self.rawValue }

    /// Whether `name` matches `[A-Za-z0-9._-]{1,64}`.
    public static func isValid(_ name: some StringProtocol) -> Bool {
        let utf8 = name.utf8
        guard (1...Self.maxLength).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
