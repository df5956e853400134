public import ChatProtocol

/// The prompt of `chat join`: the connection state, the room and the name — the web chat's status
/// indicator, in the terminal.
public struct Prompt: Sendable, Equatable {
    /// Where the connection stands.
    public enum State: Sendable, Equatable {
        case connecting
        case connected
        /// Lost; the next attempt is in `delay`.
        case reconnecting(delay: Duration)
    }

    public var state: State
    public var room: RoomName
    public var name: String
    /// Draw `●◌○` (else `* ~ -`): only when the terminal's locale is UTF-8.
    public var unicode: Bool
    public var color: Bool
    /// Who is typing (`Typists.names`), shown after the name while connected.
    public var typing: [String] = []

    public init(state: State = .connecting, room: RoomName, name: String, unicode: Bool, color: Bool) {
        self.state = state
        self.room = room
        self.name = name
        self.unicode = unicode
        self.color = color
    }

    /// `● lobby alice> ` (`● lobby alice (bob typing…)> `), `◌ connecting> `, `○ reconnecting in 3s> `. Colour codes are wrapped in
    /// `\u{1}`…`\u{2}` so libedit knows they take no room.
    public var rendered: String {
        let glyph: String
        let colorCode: String
        let text: String
        switch self.state {
        case .connected:
            (glyph, colorCode, text) = (self.unicode ? "●" : "*", "32", "\(self.room) \(self.name)\(self.typingHint)")
        case .connecting:
            (glyph, colorCode, text) = (self.unicode ? "◌" : "~", "33", "connecting")
        case .reconnecting(let delay):
            (glyph, colorCode, text) = (self.unicode ? "○" : "-", "31", "reconnecting in \(Self.seconds(delay))")
        }
        let clean = TerminalSanitizer.sanitize(text)
        guard self.color else { return "\(glyph) \(clean)> " }
        return "\u{1}\u{1B}[\(colorCode)m\u{2}\(glyph)\u{1}\u{1B}[0m\u{2} \(clean)> "
    }

    /// ` (bob typing…)`, ` (bob, carol typing…)`, ` (3 typing…)`; nothing when nobody is.
    private var typingHint: String {
        guard !self.typing.isEmpty else { return "" }
        let who = self.typing.count > 2 ? "\(self.typing.count)" : self.typing.joined(separator: ", ")
        return " (\(who) typing\(self.unicode ? "…" : "..."))"
    }

    /// Whole seconds, rounded up: `reconnecting in 3s`, never `in 0s`.
    private static func seconds(_ delay: Duration) -> String {
        let (seconds, attoseconds) = delay.components
        return "\(max(1, seconds + (attoseconds > 0 ? 1 : 0)))s"
    }
}
