import ChatClient
import ChatProtocol
import ChatTerminal
import Logging

/// `chat join` without a terminal on stdin: input lines are sent (commands work too), messages are
/// printed plainly, and it ends once input ends and every message is acknowledged.
struct PlainJoin {
    let configuration: ClientConfiguration
    let policy: ReconnectPolicy
    let logger: Logger

    func run() async -> JoinOutcome {
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
                for await line in StandardInput.lines() {
                    let command = InputCommand(line: line)
                    if let text = command.messageText {
                        conversation.send(text)
                        continue
                    }
                    switch command {
                    case .nick(let name): conversation.rename(name)
                    case .msg, .reply:
                        switch shared.direct(command) {
                        case .success(let direct): conversation.send(direct.text, to: direct.to)
                        case .failure(let refusal): StandardError.line("chat: \(refusal.hint)")
                        }
                    case .who:
                        for line in renderer.members(shared.names) {
                            try? StandardOutput.writeLine(line)
                        }
                    case .help: for line in InputCommand.helpLines { try? StandardOutput.writeLine(line) }
                    case .invalid(let hint): StandardError.line("chat: \(hint)")
                    case .rooms, .join:
                        // Without a terminal, join is a pipe into one room: a script moves by starting another.
                        StandardError.line("chat: /rooms and /join need a terminal; use chat rooms, or another URL")
                    case .quit: break
                    case .say, .me, .nothing: continue
                    }
                    if command == .quit { break }
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
