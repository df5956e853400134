import ChatProtocol
import Testing

struct TerminalSanitizerTests {
    @Test(arguments: [
        ("plain text ✓ 日本", "plain text ✓ 日本"),
        ("tab\tstays", "tab\tstays"),
        ("two\nlines", "two\\nlines"),
        ("cr\rhere", "cr\\rhere"),
        ("back\\slash", "back\\\\slash"),
        ("\u{1b}[2Jclear", "\\x1b[2Jclear"),
        ("\u{1b}]0;title\u{7}", "\\x1b]0;title\\x07"),
        ("bell\u{7}del\u{7f}", "bell\\x07del\\x7f"),
        ("c1\u{9b}31m", "c1\\u009b31m"),
        ("evil\u{202e}txt.exe", "evil\\u202etxt.exe"),
        ("iso\u{2066}late\u{2069}", "iso\\u2066late\\u2069"),
        ("zero\u{200b}width", "zero\\u200bwidth"),
        ("arabic\u{61c}mark", "arabic\\u061cmark"),
    ])
    func controlsAreShownEscaped(_ input: String, _ expected: String) {
        #expect(TerminalSanitizer.sanitize(input) == expected)
    }

    @Test func nothingThatReachesATerminalCanControlIt() {
        let hostile = (0..<0x20).map { String(Unicode.Scalar($0)!) }.joined() + "\u{7f}\u{85}\u{9b}\u{202a}\u{2067}"
        let safe = TerminalSanitizer.sanitize(hostile)
        #expect(
            !safe.unicodeScalars.contains {
                ($0.value < 0x20 && $0 != "\t") || (0x7f...0x9f).contains($0.value)
                    || (0x2066...0x2069).contains($0.value) || (0x202a...0x202e).contains($0.value)
            }
        )
    }
}
