/// Whether a message names someone: `@alice` anywhere, or `alice:` / `alice,` opening it — as IRC
/// clients and ssh-chat read it. Case-insensitive, whole names only: `@alice-2`, `@alicex` and
/// `me@alice.com` do not name `alice`; `@alice.`, `@alice's` and `(@alice)` do.
public enum Mention {
    /// Whether `text` names `name`.
    public static func names(_ name: String, in text: String) -> Bool {
        let name = Array(name.lowercased())
        let text = Array(text.lowercased())
        guard !name.isEmpty else { return false }
        // `alice:` or `alice,` at the start (after white space).
        let start = text.firstIndex { !$0.isWhitespace } ?? text.endIndex
        if text[start...].starts(with: name), start + name.count < text.count,
            [":", ","].contains(text[start + name.count])
        {
            return true
        }
        // `@alice` with no name character before the `@` or after the name.
        var index = text.startIndex
        while let at = text[index...].firstIndex(of: "@") {
            let after = at + 1
            let before = at > text.startIndex ? text[at - 1] : nil
            if before.map({ !Self.isNameCharacter($0) }) ?? true, text[after...].starts(with: name) {
                let end = after + name.count
                if end == text.count || !Self.isNameCharacter(text[end]) { return true }
            }
            index = after
        }
        return false
    }

    /// What continues a name: letters, digits, `_` and `-` (the suffix `alice-2` gets).
    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_" || character == "-"
    }
}
