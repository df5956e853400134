public import ChatProtocol
import NIOCore

/// How `tail` renders frames: `HH:MM:SS <name> text` lines, or the wire JSON objects.
public struct TranscriptFormat: Sendable {
    /// Print JSON objects instead of text lines.
    public var json: Bool
    /// Print join, leave and nick events too.
    public var events: Bool
    /// Print text exactly as received, escape sequences included (`tail --raw`): the user asked for it.
    public var raw: Bool

    /// Creates a format.
    public init(json: Bool, events: Bool, raw: Bool = false) {
        self.json = json
        self.events = events
        self.raw = raw
    }

    /// The line for `frame` (without its newline), or nil when this format does not print it.
    public func line(for frame: ServerFrame) -> String? {
        switch frame {
        case .message, .direct:
            break
        case .join, .leave, .nick:
            guard self.events else { return nil }
        case .welcome, .ack, .error, .typing:
            return nil
        }
        if self.json {
            // Our encoder writes compact JSON with every string escaped: never a raw newline.
            return String(buffer: frame.encode())
        }
        return Self.text(for: frame, clean: self.raw ? { $0 } : TerminalSanitizer.sanitize)
    }

    private static func text(for frame: ServerFrame, clean: (String) -> String) -> String? {
        func clock(_ ts: Timestamp) -> String { ts.localTimeOfDay }
        switch frame {
        case .message(let message):
            return "\(clock(message.ts)) <\(clean(message.from))> \(clean(message.text))"
        case .direct(let direct):
            // The arrow marks it: a direct message, to the name after it.
            return "\(clock(direct.ts)) <\(clean(direct.from)) -> \(clean(direct.to))> \(clean(direct.text))"
        case .join(let event):
            return "\(clock(event.ts)) -- \(clean(event.user.name)) joined"
        case .leave(let event):
            return "\(clock(event.ts)) -- \(clean(event.user.name)) left"
        case .nick(let event):
            return "\(clock(event.ts)) -- \(clean(event.previousName ?? "?")) is now \(clean(event.user.name))"
        case .welcome, .ack, .error, .typing:
            return nil
        }
    }
}
