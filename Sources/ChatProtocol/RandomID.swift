/// Short random identifiers for users, epochs and server-made message ids, from `UserSpaceRandom`: the
/// server makes one for every message sent without an id, and `SystemRandomNumberGenerator` would cost a
/// system call per character.
public enum RandomID {
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    /// `prefix` followed by `length` random lowercase letters and digits.
    public static func make(prefix: String = "", length: Int = 10) -> String {
        var generator = UserSpaceRandom()
        let characters = (0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! }
        return prefix + String(decoding: characters, as: UTF8.self)
    }
}
