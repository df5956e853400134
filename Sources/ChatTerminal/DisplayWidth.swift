import CLibEdit

/// How many terminal columns text takes: wide (CJK, most emoji) characters take two, combining marks none.
///
/// Needs a UTF-8 `LC_CTYPE` (see `TerminalLocale.prepare()`), as `wcwidth` does. Text between `\u{1}` and
/// `\u{2}` — the readline markers around a prompt's escape codes — takes no room.
public enum DisplayWidth {
    public static func of(_ text: some StringProtocol) -> Int {
        var width = 0
        var invisible = false
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 1: invisible = true
            case 2: invisible = false
            default:
                guard !invisible else { continue }
                width += max(0, Int(chat_wcwidth(scalar.value)))
            }
        }
        return width
    }
}
