public import ChatClient
import ChatProtocol
import ChatTerminal
import Foundation
public import Logging

/// `chat join` on a terminal: a libedit prompt that shows the connection, messages printed above it.
public struct InteractiveJoin: Sendable {
    /// How long /quit waits for the last messages to be acknowledged.
    static let quitGrace: Duration = .seconds(3)

    let configuration: ClientConfiguration
    let policy: ReconnectPolicy
    let color: Bool
    let bell: JoinBell
    let logger: Logger

    public init(
        configuration: ClientConfiguration,
        policy: ReconnectPolicy,
        color: Bool,
        bell: JoinBell,
        logger: Logger
    ) {
        self.configuration = configuration
        self.policy = policy
        self.color = color
        self.bell = bell
        self.logger = logger
    }

    public func run() async -> JoinOutcome {
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
        var configuration = self.configuration
        var conversation = ChatConversation()
        var outcome: JoinOutcome
        rounds: while true {
            let (current, talk) = (configuration, conversation)
            let step = await withTaskGroup(of: Step.self) { group in
                group.addTask {
                    .ended(
                        await self.network(
                            current,
                            conversation: talk,
                            editor: editor,
                            renderer: renderer,
                            shared: shared
                        )
                    )
                }
                group.addTask {
                    await Self.input(
                        current,
                        conversation: talk,
                        editor: editor,
                        renderer: renderer,
                        shared: shared
                    )
                }
                let first = await group.next() ?? .ended(.finished)
                group.cancelAll()
                return first
            }
            let room: RoomName
            switch step {
            case .ended(let ended):
                outcome = ended
                break rounds
            case .move(let next):
                room = next
            }
            // What was typed here goes here first (as /quit waits for it), then the other room.
            _ = await Self.quit(conversation)
            if conversation.unacknowledged > 0 {
                editor.print([
                    renderer.notice(
                        "\(conversation.unacknowledged) message(s) may not have reached # \(configuration.url.room)"
                    )
                ])
            }
            configuration.servers = configuration.servers.map { $0.with(room: room) }
            configuration.url = configuration.url.with(room: room)
            configuration.since = nil
            configuration.epoch = nil
            conversation = ChatConversation()
            if let prompt = shared.moving(to: room) { editor.setPrompt(prompt) }
            editor.print([renderer.dim("moving to # \(room)")])
        }
        editor.stop()
        // The terminal is restored once the editor's events end.
        for await _ in editor.events {}
        if case .finished = outcome, conversation.unacknowledged > 0 {
            outcome = .failed(Undelivered(count: conversation.unacknowledged))
        }
        return outcome
    }

    /// How a round of the network and input tasks ends: the run is over, or `/join` moves to another room.
    private enum Step: Sendable {
        case ended(JoinOutcome)
        case move(RoomName)
    }

    private func network(
        _ configuration: ClientConfiguration,
        conversation: ChatConversation,
        editor: LineEditor,
        renderer: TranscriptRenderer,
        shared: JoinState
    ) async -> JoinOutcome {
        await withTaskGroup(of: Void.self) { group in
            // "bob typing…" leaves the prompt once bob's last notice is `Typing.expiry` old.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if let prompt = shared.expireTypists() { editor.setPrompt(prompt) }
                }
            }
            defer { group.cancelAll() }
            // The room's events on the screen, until the connection cannot be kept.
            return await JoinOutcome.following {
                try await conversation.run(configuration, policy: self.policy, logger: self.logger) { event in
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
                        let rings = self.bell.rings(for: frame, isOwn: seen.isOwn, mentionsUs: seen.mentionsUs)
                        if !lines.isEmpty, rings { lines[lines.count - 1] += "\u{07}" }
                        if !lines.isEmpty { editor.print(lines) }
                    }
                    return true
                }
            }
        }
    }

    private static func input(
        _ configuration: ClientConfiguration,
        conversation: ChatConversation,
        editor: LineEditor,
        renderer: TranscriptRenderer,
        shared: JoinState
    ) async -> Step {
        let commands = JoinCommands(
            room: configuration.url.room,
            configuration: configuration,
            conversation: conversation,
            shared: shared,
            renderer: renderer,
            output: ScreenOutput(editor: editor, renderer: renderer)
        )
        var nextTyping = ContinuousClock.now
        for await event in editor.events {
            switch event {
            case .line(let line):
                switch await commands.perform(line) {
                case .carryOn: break
                case .move(let room): return .move(room)
                case .quit: return .ended(await Self.quit(conversation))
                }
            case .editing(let partial):
                // What is typed for the room says so, at most every `Typing.interval`; a command does not.
                // The clock first: it is cheaper than parsing the line, and says no for most keys.
                guard ContinuousClock.now >= nextTyping, InputCommand(line: partial).messageText != nil else {
                    continue
                }
                nextTyping = .now + Typing.interval
                conversation.typing()
            case .endOfInput:
                return .ended(await Self.quit(conversation))
            case .interrupt:
                return .ended(.exit(130))
            case .terminated(let signal):
                return .ended(.exit(128 + signal))
            }
        }
        return .ended(.finished)
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
