import Foundation

/// User display names, as the server accepts and de-duplicates them.
public enum UserName {
    /// The longest name, in characters.
    public static let maxLength = 32

    /// The name in Unicode NFC with surrounding white space removed and every inner run of white space
    /// (no-break, ideographic, …) made one plain space — so names that only look alike compare equal — or nil
    /// when it is empty, too long, or contains a control, format or line-separator character (which could
    /// forge lines or reorder text on a terminal).
    public static func normalized(_ raw: String) -> String? {
        let composed = raw.precomposedStringWithCanonicalMapping
        var spaced = String.UnicodeScalarView()
        for scalar in composed.unicodeScalars {
            if scalar.properties.isWhitespace, scalar.properties.generalCategory == .spaceSeparator || scalar == "\t" {
                if spaced.last != " " { spaced.append(" ") }
            } else {
                spaced.append(scalar)
            }
        }
        let trimmed = String(spaced).trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= Self.maxLength else { return nil }
        let forbidden = trimmed.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                true
            default:
                false
            }
        }
        return forbidden ? nil : trimmed
    }

    /// `name`, or `name-2`, `name-3`, … — the first that no one in `taken` has, compared case-insensitively.
    public static func unique(_ name: String, taken: some Collection<String>) -> String {
        let lowered = Set(taken.map { $0.lowercased() })
        return Self.unique(name, isTaken: lowered.contains)
    }

    /// The same, asking `isTaken` about each candidate's lowercased form — for a room that keeps its
    /// members' lowercased names, so a join costs the same with 10,000 members as with 2.
    public static func unique(_ name: String, isTaken: (String) -> Bool) -> String {
        guard isTaken(name.lowercased()) else { return name }
        var suffix = 2
        while true {
            let tail = "-\(suffix)"
            let candidate = String(name.prefix(Self.maxLength - tail.count)) + tail
            if !isTaken(candidate.lowercased()) { return candidate }
            suffix += 1
        }
    }
}

extension String {
    /// The string without leading and trailing white space (Unicode `White_Space`).
    package func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
