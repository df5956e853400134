import ChatTerminal

/// Where `join` shows what happens: a libedit screen (`ScreenOutput`) or plain lines (`PlainOutput`).
/// The commands (`JoinCommands`) are written once against it.
protocol JoinOutput: Sendable {
    /// Whether `/rooms` and `/join` work: moving between rooms needs a terminal; without one, join is a
    /// pipe into one room and a script moves by starting another.
    var movesBetweenRooms: Bool { get }
    /// Transcript lines as they are: messages, the member list.
    func show(_ lines: [String])
    /// What the user should know that is not a message: help, where they are.
    func info(_ lines: [String])
    /// Something the user asked for that did not work.
    func notice(_ text: String)
}

/// `join` without a terminal: the transcript and help on stdout, notices on stderr as `chat: …`.
struct PlainOutput: JoinOutput {
    var movesBetweenRooms: Bool { false }

    func show(_ lines: [String]) {
        for line in lines { try? StandardOutput.writeLine(line) }
    }

    func info(_ lines: [String]) {
        self.show(lines)
    }

    func notice(_ text: String) {
        StandardError.line("chat: \(text)")
    }
}

/// `join` on a terminal: everything above the prompt, what is not a message dimmed.
struct ScreenOutput: JoinOutput {
    let editor: LineEditor
    let renderer: TranscriptRenderer

    var movesBetweenRooms: Bool { true }

    func show(_ lines: [String]) {
        self.editor.print(lines)
    }

    func info(_ lines: [String]) {
        self.editor.print(lines.map(self.renderer.dim))
    }

    func notice(_ text: String) {
        self.editor.print([self.renderer.notice(text)])
    }
}
