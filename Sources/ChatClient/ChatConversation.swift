import ChatProtocol
public import Logging

/// A room joined to talk in (`chat join`): followed across reconnects like `tail` — no gap, no duplicate —
/// while what the user types goes through an `Outbox`: sent with ids, resent after a reconnect until
/// acknowledged, in order and stored once (the server de-duplicates ids), renames in line with it.
///
/// Every frame goes out through one sender task, so a resend after a reconnect and a message typed at
/// that moment can never swap places.
public final class ChatConversation: Sendable {
    private let outbox = OutboxDriver(Outbox(limits: Outbox.Limits(pacing: false)))

    public init() {}

    /// Messages sent but not acknowledged yet.
    public var unacknowledged: Int {
        self.outbox.read { $0.unacknowledged }
    }

    /// Sends `text` — to the room, or `to` one member only — now, or once connected again.
    public func send(_ text: String, to: String? = nil) {
        self.outbox.update { $0.enqueue(text, to: to) }
    }

    /// Tells the room the user is typing (when connected; a caller sends it at most every `Typing.interval`).
    public func typing() {
        self.outbox.update { $0.typing() }
    }

    /// Asks for a new name, now (after what was typed before it) and after every reconnect.
    public func rename(_ name: String) {
        self.outbox.update { $0.rename(name) }
    }

    /// Returns once connected at least once and every message sent so far is acknowledged (at once when
    /// cancelled).
    public func waitUntilDelivered() async {
        await self.outbox.wait { $0.connectedOnce && $0.unacknowledged == 0 }
    }

    /// Follows the room and keeps sending until `handle` returns false, as `ChatFollower.follow` does.
    public func run(
        _ configuration: ClientConfiguration,
        policy: ReconnectPolicy,
        logger: Logger,
        handle: (FollowEvent) async throws -> Bool
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.outbox.sendOnEverySession() }
            defer { group.cancelAll() }
            try await ChatFollower.follow(
                configuration,
                policy: policy,
                logger: logger,
                onSession: { self.outbox.attach($0) }
            ) { event in
                switch event {
                case .frame(.ack(let ack)):
                    self.outbox.acknowledged(ack)
                case .frame(.error(let error)):
                    // One refused for good (too large) is dropped, and the user sees the server's error.
                    self.outbox.refused(error)
                default:
                    break
                }
                return try await handle(event)
            }
        }
    }
}
