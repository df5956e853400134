import ChatProtocol
public import Logging
import Synchronization

/// A room joined to talk in (`chat join`): followed across reconnects like `tail` — no gap, no duplicate —
/// while what the user types goes through an `Outbox`: sent with ids, resent after a reconnect until
/// acknowledged, in order and stored once (the server de-duplicates ids), renames in line with it.
///
/// Every frame goes out through one sender task, so a resend after a reconnect and a message typed at
/// that moment can never swap places.
public final class ChatConversation: Sendable {
    private let outbox = OutboxDriver(Outbox(limits: Outbox.Limits(pacing: false)))
    /// The connection the sender writes on, set and cleared by the follower.
    private let session = Mutex<ChatSession?>(nil)

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
            group.addTask { await self.runSender() }
            defer { group.cancelAll() }
            try await ChatFollower.follow(
                configuration,
                policy: policy,
                logger: logger,
                onSession: { session in
                    self.session.withLock { $0 = session }
                    guard let session else {
                        self.outbox.update { $0.disconnected() }
                        return
                    }
                    let limits = session.welcome.limits
                    self.outbox.update {
                        $0.connected(
                            rate: limits.rateLimit,
                            burst: limits.burst,
                            maxMessageBytes: limits.maxMessageBytes,
                            epoch: session.welcome.epoch
                        )
                    }
                }
            ) { event in
                switch event {
                case .frame(.ack(let ack)):
                    self.outbox.update { $0.acknowledged(ack.id, seq: ack.seq) }
                case .frame(.error(let error)):
                    // A rate-limited message goes again later; one refused for good (too large) is dropped,
                    // and the user sees the server's error.
                    if let id = error.id {
                        _ = self.outbox.update {
                            $0.refused(
                                id,
                                rateLimited: error.code == ChatErrorCode.rateLimited,
                                retryAfter: .seconds(error.retryAfter ?? 1),
                                now: .now
                            )
                        }
                    }
                default:
                    break
                }
                return try await handle(event)
            }
        }
    }

    /// Sends on each connection in turn. A failed write means the connection is going: the follower
    /// reconnects, and the next connection sends everything unacknowledged again.
    private func runSender() async {
        while !Task.isCancelled {
            await self.outbox.wait { $0.isConnected }
            let connection = self.outbox.read { $0.connections }
            if let session = self.session.withLock({ $0 }) {
                try? await self.outbox.send(on: session)
            }
            await self.outbox.wait { !$0.isConnected || $0.connections != connection }
        }
    }
}
