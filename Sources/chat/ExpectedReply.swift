import ChatClient
import ChatProtocol
import ChatTerminal
import Logging

/// `send --expect`: after sending, wait for someone else's message matching a pattern, and print it.
///
/// It follows the room from the seq of the last message sent, so a reply that came back before it
/// started listening is not missed (the server replays it from its history).
struct ExpectedReply {
    /// No matching message came within the timeout.
    struct TimedOut: Error, CustomStringConvertible {
        var pattern: String
        var delivered: Int

        var description: String {
            "timed out waiting for a message matching '\(self.pattern)'; \(self.delivered) message\(self.delivered == 1 ? "" : "s") delivered"
        }
    }

    let pattern: String
    let format: TranscriptFormat
    /// Messages whose id starts with this are our own and never count as the reply.
    let ownIDPrefix: String
    /// `--quiet`: no warnings, no reconnects on stderr.
    var quiet = false

    func wait(
        after sent: ChatPublisher.Result,
        configuration: ClientConfiguration,
        policy: ReconnectPolicy,
        timeout: Duration?,
        logger: Logger
    ) async throws {
        var resume = configuration
        resume.since = sent.lastSeq
        resume.epoch = sent.epoch
        resume.history = nil
        let (pattern, format, ownIDPrefix, follow) = (self.pattern, self.format, self.ownIDPrefix, resume)
        let quiet = self.quiet
        let notice: @Sendable (String) -> Void = { line in if !quiet { StandardError.line(line) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let regex = try Regex(pattern)
                try await ChatFollower.follow(follow, policy: policy, logger: logger) { event in
                    switch event {
                    case .connected:
                        return true
                    case .incompleteReplay(let since, let firstSeq):
                        notice("chat: warning: " + MissedMessages.describe(since: since, firstSeq: firstSeq))
                        return true
                    case .gap(let since, let firstSeq, let epochChanged):
                        notice(
                            "chat: warning: "
                                + MissedMessages.describe(since: since, firstSeq: firstSeq, epochChanged: epochChanged)
                        )
                        return true
                    case .reconnecting(let attempt, let delay, let reason):
                        notice(StandardError.reconnectingMessage(attempt: attempt, delay: delay, reason: reason))
                        return true
                    case .frame(let frame):
                        // A room message, or a direct one that reaches this connection while it waits.
                        let reply = Said(frame)
                        guard let reply, !reply.id.rawValue.hasPrefix(ownIDPrefix), reply.text.contains(regex),
                            let line = format.line(for: frame)
                        else { return true }
                        try StandardOutput.writeLine(line)
                        return false
                    }
                }
            }
            if let timeout {
                group.addTask {
                    try await Task.sleep(for: max(timeout, .zero))
                    throw TimedOut(pattern: pattern, delivered: sent.delivered)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
