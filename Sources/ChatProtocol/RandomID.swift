/// Short random identifiers for users, epochs and server-made message ids.
public enum RandomID {
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    /// `prefix` followed by `length` random lowercase letters and digits.
    public static func make(prefix: String = "", length: Int = 10) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! }
        return prefix + String(decoding: characters, as: UTF8.self)
    }
}
