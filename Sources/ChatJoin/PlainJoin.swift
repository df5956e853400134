public import ChatClient
import ChatTerminal
public import Logging

/// `chat join` without a terminal on stdin: input lines are sent (commands work too), messages are
/// printed plainly, and it ends once input ends and every message is acknowledged.
public struct PlainJoin: Sendable {
    let configuration: ClientConfiguration
    let policy: ReconnectPolicy
    let logger: Logger

    public init(configuration: ClientConfiguration, policy: ReconnectPolicy, logger: Logger) {
        self.configuration = configuration
        self.policy = policy
        self.logger = logger
    }

    public func run() async -> JoinOutcome {
        let renderer = TranscriptRenderer(color: false, unicode: false)
        let conversation = ChatConversation()
        let shared = JoinState(prompt: nil)
        return await withTaskGroup(of: JoinOutcome.self) { group in
            group.addTask {
                await JoinOutcome.following {
                    try await conversation.run(self.configuration, policy: self.policy, logger: self.logger) { event in
                        switch event {
                        case .connected(let welcome):
                            _ = shared.connected(welcome)
                        case .incompleteReplay(let since, let firstSeq):
                            StandardError.warn(MissedMessages.describe(since: since, firstSeq: firstSeq))
                        case .gap(let since, let firstSeq, let epochChanged):
                            StandardError.warn(
                                MissedMessages.describe(since: since, firstSeq: firstSeq, epochChanged: epochChanged)
                            )
                        case .reconnecting(let attempt, let delay, let reason):
                            StandardError.reconnecting(attempt: attempt, delay: delay, reason: reason)
                        case .frame(let frame):
                            let isOwn = shared.apply(frame).isOwn
                            for line in renderer.lines(for: frame, isOwn: isOwn) { try? StandardOutput.writeLine(line) }
                        }
                        return true
                    }
                }
            }
            group.addTask {
                let commands = JoinCommands(
                    room: self.configuration.url.room,
                    configuration: self.configuration,
                    conversation: conversation,
                    shared: shared,
                    renderer: renderer,
                    output: PlainOutput()
                )
                for await line in StandardInput.lines() {
                    // Moving needs a terminal (PlainOutput refuses it): only /quit ends the input early.
                    if await commands.perform(line) == .quit { break }
                }
                await conversation.waitUntilDelivered()
                return .finished
            }
            let first = await group.next() ?? .finished
            group.cancelAll()
            return first
        }
    }
}
