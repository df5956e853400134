/// Makes untrusted text safe to print on a terminal, one record per line.
///
/// Text from the network must never drive the terminal: ESC/CSI/OSC sequences could clear the screen,
/// retitle the window or fake a prompt, and bidi overrides could reorder what the user reads. Such
/// characters are shown escaped instead (`\x1b`, `\u202e`), newlines as `\n` so a message stays on
/// one line, and the backslash itself as `\\` so the escaped form is unambiguous.
public enum TerminalSanitizer {
    /// The text with every character that could control a terminal shown as an escape.
    public static func sanitize(_ text: String) -> String {
        // Fast path: plain printable text (the common case) is returned as it is.
        if !text.unicodeScalars.contains(where: Self.needsEscape) { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            guard Self.needsEscape(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x80 {
                    result += "\\x" + Self.hex(scalar.value, width: 2)
                } else {
                    result += "\\u" + Self.hex(scalar.value, width: 4)
                }
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false  // a tab only moves the cursor right
        case 0x00...0x1F, 0x5C, 0x7F...0x9F: true  // C0, backslash, DEL, C1 (incl. the one-byte CSI 0x9B)
        // Invisible and bidi format controls; U+061C (the Arabic letter mark, a bidi mark) found by
        // FuzzTerminalSanitizer.
        case 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0xFEFF, 0xFFF9...0xFFFB: true
        default: false
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
