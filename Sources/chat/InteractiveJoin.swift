import ChatClient
import ChatProtocol
import ChatTerminal
import Foundation
import Logging
import Synchronization

/// `chat join` on a terminal: a libedit prompt that shows the connection, messages printed above it.
struct InteractiveJoin {
    /// How long /quit waits for the last messages to be acknowledged.
    static let quitGrace: Duration = .seconds(3)

    let configuration: ClientConfiguration
    let policy: ReconnectPolicy
    let color: Bool
    let bell: Join.Bell
    let logger: Logger

    func run() async -> JoinOutcome {
        let unicode = TerminalLocale.prepare()
        // On a terminal a mention is shown in reverse video, colours or not (NO_COLOR).
        let renderer = TranscriptRenderer(color: self.color, unicode: unicode, highlight: true)
        let prompt = Prompt(
            room: self.configuration.url.room,
            name: self.configuration.name ?? "",
            unicode: unicode,
            color: self.color
        )
        let shared = JoinState(prompt: prompt)
        let editor = LineEditor(
            LineEditor.Configuration(
                prompt: prompt.rendered,
                historyFile: InputHistory.path(environment: ProcessInfo.processInfo.environment),
                completions: { word, startsLine in shared.completions(for: word, startsLine: startsLine) }
            )
        )
        editor.start()
        let conversation = ChatConversation()
        var outcome = await withTaskGroup(of: JoinOutcome.self) { group in
            group.addTask {
                await self.network(conversation: conversation, editor: editor, renderer: renderer, shared: shared)
            }
            group.addTask {
                await Self.input(conversation: conversation, editor: editor, renderer: renderer, shared: shared)
            }
            let first = await group.next() ?? .finished
            group.cancelAll()
            return first
        }
        editor.stop()
        // The terminal is restored once the editor's events end.
        for await _ in editor.events {}
        if case .finished = outcome, conversation.unacknowledged > 0 {
            outcome = .failed(Undelivered(count: conversation.unacknowledged))
        }
        return outcome
    }

    private func network(
        conversation: ChatConversation,
        editor: LineEditor,
        renderer: TranscriptRenderer,
        shared: JoinState
    ) async -> JoinOutcome {
        await JoinOutcome.following {
            try await conversation.run(self.configuration, policy: self.policy, logger: self.logger) { event in
                switch event {
                case .connected(let welcome):
                    if let prompt = shared.connected(welcome) { editor.setPrompt(prompt) }
                case .gap(let since, let firstSeq, let epochChanged):
                    editor.print([renderer.gap(since: since, firstSeq: firstSeq, epochChanged: epochChanged)])
                case .incompleteReplay(let since, let firstSeq):
                    editor.print([renderer.dim(MissedMessages.describe(since: since, firstSeq: firstSeq))])
                case .reconnecting(let attempt, let delay, let reason):
                    if attempt == 1 { editor.print([renderer.dim("connection lost: \(reason)")]) }
                    if let prompt = shared.promptState(.reconnecting(delay: delay)) { editor.setPrompt(prompt) }
                case .frame(let frame):
                    let seen = shared.apply(frame)
                    if let prompt = seen.prompt { editor.setPrompt(prompt) }
                    var lines = renderer.lines(for: frame, isOwn: seen.isOwn, mentionsUs: seen.mentionsUs)
                    // The one BEL is ours: network text had its control characters escaped already.
                    if !lines.isEmpty, self.bell.rings(for: frame, isOwn: seen.isOwn, mentionsUs: seen.mentionsUs) {
                        lines[lines.count - 1] += "\u{07}"
                    }
                    if !lines.isEmpty { editor.print(lines) }
                }
                return true
            }
        }
    }

    private static func input(
        conversation: ChatConversation,
        editor: LineEditor,
        renderer: TranscriptRenderer,
        shared: JoinState
    ) async -> JoinOutcome {
        for await event in editor.events {
            switch event {
            case .line(let line):
                let command = InputCommand(line: line)
                if let text = command.messageText {
                    conversation.send(text)
                    if !shared.isConnected {
                        editor.print([renderer.dim("not connected: sending once reconnected")])
                    }
                    continue
                }
                switch command {
                case .nick(let name): conversation.rename(name)
                case .who: editor.print(renderer.members(shared.names))
                case .help: editor.print(InputCommand.helpLines.map(renderer.dim))
                case .invalid(let hint): editor.print([renderer.notice(hint)])
                case .quit: return await Self.quit(conversation)
                case .say, .me, .nothing: break
                }
            case .endOfInput:
                return await Self.quit(conversation)
            case .interrupt:
                return .exit(130)
            case .terminated(let signal):
                return .exit(128 + signal)
            }
        }
        return .finished
    }

    /// Leaves once what was typed is acknowledged, or after a short grace period.
    private static func quit(_ conversation: ChatConversation) async -> JoinOutcome {
        guard conversation.unacknowledged > 0 else { return .finished }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await conversation.waitUntilDelivered() }
            group.addTask { try? await Task.sleep(for: Self.quitGrace) }
            await group.next()
            group.cancelAll()
        }
        return .finished
    }
}
