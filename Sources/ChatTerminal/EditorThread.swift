import CLibEdit
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The editor's thread: owns libedit and the terminal from `run()` until it returns.
///
/// libedit calls back through C function pointers that cannot capture, so the running editor is reached
/// through `current` — only ever touched on this thread.
final class EditorThread {
    nonisolated(unsafe) static var current: EditorThread?
    /// Tab candidates of the completion in progress, handed out one by one to libedit's generator.
    nonisolated(unsafe) static var candidates: [String] = []

    private let configuration: LineEditor.Configuration
    private let wakeRead: Int32
    private let takeRequests: () -> [LineEditor.Request]
    private let emit: (LineEditor.Event) -> Void
    private var prompt: String
    private var stopped = false

    init(
        configuration: LineEditor.Configuration,
        wakeRead: Int32,
        takeRequests: @escaping () -> [LineEditor.Request],
        emit: @escaping (LineEditor.Event) -> Void
    ) {
        self.configuration = configuration
        self.wakeRead = wakeRead
        self.takeRequests = takeRequests
        self.emit = emit
        self.prompt = configuration.prompt
    }

    func run() {
        Self.current = self
        defer { Self.current = nil }
        let signals = SignalPipe.install([SIGINT, SIGWINCH, SIGTERM, SIGHUP])
        defer { SignalPipe.uninstall(readEnd: signals) }
        chat_rl_setup("chat")
        chat_history_limit(Int32(self.configuration.historyLimit))
        if let file = self.configuration.historyFile { _ = chat_history_read(file) }
        chat_rl_set_completion(EditorThread.complete)
        chat_rl_install(self.prompt, EditorThread.lineEntered)

        while !self.stopped {
            var fds = [
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                pollfd(fd: self.wakeRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 else {
                if errno == EINTR { continue }
                break
            }
            if fds[2].revents != 0 {
                for signal in SignalPipe.drain(readEnd: signals) { self.handle(signal: signal) }
            }
            if fds[1].revents != 0, !self.stopped {
                self.drainWake()
                for request in Self.coalesced(self.takeRequests()) { self.handle(request) }
            }
            if fds[0].revents != 0, !self.stopped {
                // Readable, or hung up: libedit reads the key (or end of file, which ends the line with nil).
                chat_rl_read_char()
                if chat_rl_take_interrupt() != 0 { self.handle(signal: SIGINT) }
                let partial = String(cString: chat_rl_line())
                if !self.stopped, !partial.isEmpty { self.emit(.editing(partial)) }
            }
        }
        chat_rl_remove()
        self.saveHistory()
    }

    /// Consecutive prints become one, so a burst of messages redraws the prompt once, not once a message.
    private static func coalesced(_ requests: [LineEditor.Request]) -> [LineEditor.Request] {
        var result: [LineEditor.Request] = []
        for request in requests {
            if case .print(let more) = request, case .print(let lines)? = result.last {
                result[result.count - 1] = .print(lines + more)
            } else {
                result.append(request)
            }
        }
        return result
    }

    private func handle(_ request: LineEditor.Request) {
        switch request {
        case .print(let lines):
            self.clearEditArea()
            var text = ""
            for line in lines { text += line + "\r\n" }
            self.write(text)
            chat_rl_redraw()
        case .prompt(let prompt):
            guard prompt != self.prompt else { return }
            self.clearEditArea()
            self.prompt = prompt
            chat_rl_set_prompt(prompt)
            chat_rl_redraw()
        case .stop:
            self.clearEditArea()
            self.stopped = true
        }
    }

    private func handle(signal: Int32) {
        switch signal {
        case SIGINT:
            var point: Int32 = 0
            var end: Int32 = 0
            _ = chat_rl_refresh(&point, &end)
            if end == 0 {
                self.emit(.interrupt)
            } else {
                // Like a shell: Ctrl-C throws the partial line away (libedit redraws it as the keys are
                // pressed).
                chat_rl_clear_line()
            }
        case SIGWINCH:
            chat_rl_resize()
            self.clearEditArea()
            chat_rl_redraw()
        default:
            self.clearEditArea()
            self.stopped = true
            self.emit(.terminated(signal: signal))
        }
    }

    /// A line was completed (nil: end of input). Called by libedit from inside `chat_rl_read_char()`.
    private func entered(_ line: String?) {
        guard let line else {
            self.write("\r\n")
            self.stopped = true
            self.emit(.endOfInput)
            return
        }
        // libedit has echoed the line and moved to a new row; take the line away again; it comes back
        // from the server as the message it became.
        let rows = self.rows(forWidth: DisplayWidth.of(self.prompt) + DisplayWidth.of(line))
        self.write("\u{1B}[\(rows)A\r\u{1B}[J")
        if !line.isEmpty { chat_history_add(line) }
        self.emit(.line(line))
        // libedit leaves callback mode before calling back; without installing again the next line would be
        // read blocking and garbled by output.
        if !self.stopped { chat_rl_install(self.prompt, EditorThread.lineEntered) }
    }

    /// Moves to the first row of the prompt and clears from there to the end of the screen.
    private func clearEditArea() {
        var rows: Int32 = 0
        var columns: Int32 = 0
        chat_rl_screen_size(&rows, &columns)
        var point: Int32 = 0
        var end: Int32 = 0
        let buffer = chat_rl_refresh(&point, &end)
        let beforeCursor = String(
            decoding: UnsafeRawBufferPointer(start: buffer, count: Int(max(0, point))),
            as: UTF8.self
        )
        let width = DisplayWidth.of(self.prompt) + DisplayWidth.of(beforeCursor)
        let row = width / max(1, Int(columns))
        self.write("\r" + (row > 0 ? "\u{1B}[\(row)A" : "") + "\u{1B}[J")
    }

    /// How many rows text of `width` columns, followed by a newline, takes.
    private func rows(forWidth width: Int) -> Int {
        var rows: Int32 = 0
        var columns: Int32 = 0
        chat_rl_screen_size(&rows, &columns)
        return width / max(1, Int(columns)) + 1
    }

    private func write(_ text: String) {
        chat_write_out(text)
    }

    private func drainWake() {
        var bytes = [UInt8](repeating: 0, count: 256)
        while read(self.wakeRead, &bytes, bytes.count) > 0 {}
    }

    private func saveHistory() {
        guard let file = self.configuration.historyFile else { return }
        let directory = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        // Created 0600 before libedit writes it: typed lines can be private.
        let descriptor = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
        _ = chat_history_write(file)
    }

    private static let lineEntered: chat_line_handler = { line in
        let text = line.map { String(cString: $0) }
        free(line)
        EditorThread.current?.entered(text)
    }

    private static let complete: chat_completion_handler = { text, start, _ in
        guard let text, let editor = EditorThread.current else { return nil }
        chat_rl_completion_done()
        EditorThread.candidates = editor.configuration.completions(String(cString: text), start == 0)
        guard !EditorThread.candidates.isEmpty else { return nil }
        return chat_rl_completion_matches(text, EditorThread.generate)
    }

    private static let generate: chat_completion_generator = { _, state in
        if state == 0 { EditorThread.candidates.reverse() }
        guard let next = EditorThread.candidates.popLast() else { return nil }
        return strdup(next)
    }
}
