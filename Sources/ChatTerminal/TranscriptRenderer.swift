public import ChatProtocol

/// How `chat join` shows what happens in the room: `HH:MM:SS <name> text`, a stable colour per name,
/// presence lines dimmed, `/me` as `* alice waves`, your own messages as `(alice)`.
///
/// Every piece of network text — names too — goes through `TerminalSanitizer` first: nothing a stranger
/// writes can move the cursor, retitle the window or reorder the line.
public struct TranscriptRenderer: Sendable {
    public var color: Bool
    /// `──` and arrows (else ASCII), when the terminal's locale is UTF-8.
    public var unicode: Bool
    /// Whether a message that mentions us is shown in bold reverse video — on a terminal, with or
    /// without colours, so it stands out with `NO_COLOR` too.
    public var highlight: Bool

    public init(color: Bool, unicode: Bool, highlight: Bool = false) {
        self.color = color
        self.unicode = unicode
        self.highlight = highlight
    }

    /// The lines for `frame`; `isOwn` marks a message this user sent, `mentionsUs` one that names us.
    public func lines(for frame: ServerFrame, isOwn: Bool, mentionsUs: Bool = false) -> [String] {
        let clean = TerminalSanitizer.sanitize
        switch frame {
        case .message(let message) where mentionsUs && self.highlight:
            // One attribute over the whole line: a name's colour reset inside it would end it early.
            let body =
                message.text.hasPrefix("/me ")
                ? "* \(clean(message.from)) \(clean(String(message.text.dropFirst(4))))"
                : "<\(clean(message.from))> \(clean(message.text))"
            return ["\u{1B}[1;7m\(Self.clock(message.ts)) \(body)\u{1B}[0m"]
        case .message(let message):
            let time = Self.clock(message.ts)
            let name = self.paint(clean(message.from), code: Self.colorCode(for: message.from), bold: isOwn)
            if message.text.hasPrefix("/me ") {
                return ["\(time) * \(name) \(clean(String(message.text.dropFirst(4))))"]
            }
            return [isOwn ? "\(time) (\(name)) \(clean(message.text))" : "\(time) <\(name)> \(clean(message.text))"]
        case .direct(let direct):
            // One colour of its own for every direct message, and the arrow, so it shows without colour too.
            let arrow = self.unicode ? "→" : "->"
            let head = "<\(clean(direct.from)) \(arrow) \(clean(direct.to))>"
            return [
                "\(Self.clock(direct.ts)) \(self.paint(head, code: Self.directColor, bold: true)) \(clean(direct.text))"
            ]
        case .join(let event):
            return [self.dim("\(Self.clock(event.ts)) \(self.unicode ? "→" : "->") \(clean(event.user.name)) joined")]
        case .leave(let event):
            return [self.dim("\(Self.clock(event.ts)) \(self.unicode ? "←" : "<-") \(clean(event.user.name)) left")]
        case .nick(let event):
            let before = clean(event.previousName ?? "?")
            return [self.dim("\(Self.clock(event.ts)) \(before) is now \(clean(event.user.name))")]
        case .error(let error):
            return [self.notice("\(clean(error.message))")]
        case .welcome, .ack, .typing:
            return []
        }
    }

    /// `── 12 messages missed ──` (or what is known about the gap).
    public func gap(since: UInt64, firstSeq: UInt64?, epochChanged: Bool) -> String {
        let rule = self.unicode ? "──" : "--"
        let text: String
        if epochChanged {
            text = "the server restarted; messages may be missing"
        } else if let firstSeq, firstSeq > since + 1 {
            let count = firstSeq - since - 1
            text = "\(count) message\(count == 1 ? "" : "s") missed"
        } else {
            text = "messages missed"
        }
        return self.dim("\(rule) \(text) \(rule)")
    }

    /// The answer to `/who`.
    public func members(_ names: [String]) -> [String] {
        [self.dim("in the room (\(names.count)): ") + names.map(TerminalSanitizer.sanitize).joined(separator: ", ")]
    }

    /// A line from `join` itself (a hint, a warning), set apart from the conversation.
    public func notice(_ text: String) -> String {
        self.color ? "\u{1B}[33m! \(text)\u{1B}[0m" : "! \(text)"
    }

    public func dim(_ text: String) -> String {
        self.color ? "\u{1B}[2m\(text)\u{1B}[0m" : text
    }

    private func paint(_ name: String, code: Int, bold: Bool) -> String {
        guard self.color else { return name }
        return "\u{1B}[\(bold ? "1;" : "")\(code)m\(name)\u{1B}[0m"
    }

    /// The same colour for the same name in every run and every client: FNV-1a of the lowercased name.
    static func colorCode(for name: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in name.lowercased().utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let palette = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96]
        return palette[Int(hash % UInt32(palette.count))]
    }

    /// Bold magenta for `<alice → bob>`: with the arrow, a direct message never looks like a room line.
    static let directColor = 35

    private static func clock(_ ts: Timestamp) -> String { ts.localTimeOfDay }
}
