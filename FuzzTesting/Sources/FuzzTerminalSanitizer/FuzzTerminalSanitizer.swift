import ChatProtocol
import FuzzSupport

/// Any text through `TerminalSanitizer.sanitize`: the result never holds a character that could drive a
/// terminal (C0 other than tab, DEL, C1, the bidi and invisible format controls, line and paragraph
/// separators), and it is unambiguous: unescaping it gives the input back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = Fuzz.text(start, count) else { return 0 }
    let safe = TerminalSanitizer.sanitize(text)
    if let bad = safe.unicodeScalars.first(where: isControl) {
        Fuzz.require(false, "U+\(String(bad.value, radix: 16)) left in \(safe.debugDescription)")
    }
    Fuzz.require(unescape(safe) == text, "\(safe.debugDescription) does not unescape to the input")
    return 0
}

/// What must never reach a terminal, listed here apart from the sanitizer's own table so that a gap in
/// one shows against the other.
func isControl(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09: false
    case 0x00...0x1F, 0x7F...0x9F: true
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true  // bidi marks, embeddings, isolates
    case 0x2028, 0x2029: true
    default: false
    }
}

/// The sanitizer's escapes undone: `\\`, `\n`, `\r`, `\xHH`, `\uHHHH`; nil for anything else after a
/// backslash.
func unescape(_ text: String) -> String? {
    var result = String.UnicodeScalarView()
    var scalars = text.unicodeScalars.makeIterator()
    func hex(_ digits: Int) -> Unicode.Scalar? {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let digit = scalars.next().flatMap({ UInt32(String($0), radix: 16) }) else { return nil }
            value = value * 16 + digit
        }
        return Unicode.Scalar(value)
    }
    while let scalar = scalars.next() {
        guard scalar == "\\" else {
            result.append(scalar)
            continue
        }
        switch scalars.next() {
        case "\\": result.append("\\")
        case "n": result.append("\n")
        case "r": result.append("\r")
        case "x":
            guard let value = hex(2) else { return nil }
            result.append(value)
        case "u":
            guard let value = hex(4) else { return nil }
            result.append(value)
        default: return nil
        }
    }
    return String(result)
}

@_cdecl("FuzzTerminalSanitizer_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
