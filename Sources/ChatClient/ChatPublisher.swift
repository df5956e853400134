public import ChatProtocol
public import ChatTransport
public import Logging
public import NIOCore
import NIOPosix

/// Sends a stream of messages and returns once the server acknowledged every one, across reconnects.
public enum ChatPublisher {
    /// Reports from a publish run, for the user.
    public enum Progress: Sendable {
        /// The connection is lost; the next attempt comes after `delay`.
        case reconnecting(attempt: Int, delay: Duration, reason: String)
        /// With `Options.reportsReceipts`: messages acknowledged, in input order — each told once, none
        /// before all that came before it in the input — and the counts then; with `reportsProgress`,
        /// the counts at every acknowledgement (and receipts only if asked for too).
        case acknowledged([Receipt], Status)
    }

    /// A message the server acknowledged.
    public struct Receipt: Sendable, Equatable {
        /// Its id (`<idPrefix>-<n>` for the n-th text).
        public var id: MessageID
        /// The seq the server gave it; nil for a direct message (`Options.to`), which has none.
        public var seq: UInt64?
    }

    /// How far a run is.
    public struct Status: Sendable, Equatable {
        /// Messages written to the server at least once.
        public var sent: Int
        /// Messages the server acknowledged.
        public var acknowledged: Int

        public init(sent: Int, acknowledged: Int) {
            self.sent = sent
            self.acknowledged = acknowledged
        }
    }

    /// What a completed run delivered.
    public struct Result: Sendable {
        /// How many messages the server acknowledged: all of them.
        public var delivered: Int
        /// The highest seq among them, nil when there were none.
        public var lastSeq: UInt64?
        /// The epoch of the connection that acknowledged the last of them.
        public var epoch: String?
    }

    /// How a run sends: its window, pacing, retries and bound.
    public struct Options: Sendable {
        /// How a lost connection is made again.
        public var policy: ReconnectPolicy
        /// The bound on the whole run.
        public var timeout: Duration?
        /// The most messages unacknowledged at a time.
        public var window: Int
        /// The most bytes of messages unacknowledged at a time.
        public var windowBytes: Int
        /// The ids are `<idPrefix>-1`, `<idPrefix>-2`, …
        public var idPrefix: String
        /// Whether sends keep under the server's announced rate limit.
        public var pacing: Bool
        /// Every message goes to this member only, as a direct message (`chat send --to`).
        public var to: String?
        /// Whether `progress` is told which messages were acknowledged (`.acknowledged` with receipts).
        public var reportsReceipts: Bool
        /// Whether `progress` is told of the counts at every acknowledgement.
        public var reportsProgress: Bool
        /// Told when the run reconnects and, with `reportsReceipts` or `reportsProgress`, of
        /// acknowledgements — on the task that reads the connection, before the run can finish.
        public var progress: @Sendable (Progress) -> Void

        public init(
            policy: ReconnectPolicy = ReconnectPolicy(),
            timeout: Duration? = nil,
            window: Int = 1024,
            windowBytes: Int = 1 << 20,
            idPrefix: String = RandomID.make(length: 8),
            pacing: Bool = true,
            to: String? = nil,
            reportsReceipts: Bool = false,
            reportsProgress: Bool = false,
            progress: @escaping @Sendable (Progress) -> Void = { _ in }
        ) {
            self.policy = policy
            self.timeout = timeout
            self.window = window
            self.windowBytes = windowBytes
            self.idPrefix = idPrefix
            self.pacing = pacing
            self.to = to
            self.reportsReceipts = reportsReceipts
            self.reportsProgress = reportsProgress
            self.progress = progress
        }
    }

    /// Sends every text of `texts` as a message with its own id and returns what was delivered —
    /// all of it, or it throws `PublishError` saying how many.
    ///
    /// At most `window` messages and `windowBytes` bytes are unacknowledged at a time. The first connection
    /// must succeed (a script wants to know at once); a connection lost later is made again under `policy`
    /// and every unacknowledged message is resent in order with the same id, which the server
    /// de-duplicates. `timeout` bounds the whole run. With `pacing` (the default) sends keep under the
    /// server's announced rate limit; either way a message refused as rate limited is resent in order.
    public static func publish<Texts: AsyncSequence & Sendable>(
        _ texts: Texts,
        configuration: ClientConfiguration,
        options: Options = Options(),
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared
    ) async throws -> Result where Texts.Element == String {
        let outbox = OutboxDriver(
            Outbox(
                limits: Outbox.Limits(
                    window: options.window,
                    windowBytes: options.windowBytes,
                    pacing: options.pacing,
                    keepsReceipts: options.reportsReceipts
                ),
                idPrefix: options.idPrefix
            )
        )
        let delivered: @Sendable () -> Int = { outbox.read { $0.acknowledged } }
        do {
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                // Input: one long-lived task, so the input sequence is never cancelled mid-run by a reconnect.
                group.addTask {
                    // The server's limit is known once the first welcome came.
                    await outbox.wait { $0.maxMessageBytes != nil }
                    try Task.checkCancellation()
                    let maxBytes = outbox.read { $0.maxMessageBytes ?? 0 }
                    var index = 0
                    for try await text in texts {
                        index += 1
                        let size = text.utf8.count
                        guard size <= maxBytes else {
                            // Report an exact count: what was sent before this one is acknowledged first.
                            await outbox.wait { $0.unacknowledged == 0 }
                            throw PublishError(
                                reason: .tooLarge(index: index, bytes: size, limit: maxBytes),
                                delivered: delivered()
                            )
                        }
                        await outbox.wait { $0.hasRoom(forBytes: size) }
                        try Task.checkCancellation()
                        outbox.update { $0.enqueue(text, to: options.to) }
                    }
                    outbox.update { $0.finishInput() }
                    return false
                }
                // The run is over when the follower is: it stops once everything is acknowledged (at the last
                // ack, or when the sender, finding nothing left, closes the session), or throws.
                group.addTask {
                    try await Self.follow(
                        outbox,
                        configuration: configuration,
                        options: options,
                        logger: logger,
                        eventLoopGroup: eventLoopGroup
                    )
                    return true
                }
                group.addTask {
                    await outbox.sendOnEverySession()
                    await outbox.closeSession()
                    // Everything is acknowledged: a server that does not answer the close within the
                    // bound every close has does not keep the run waiting.
                    try await Task.sleep(for: configuration.closeTimeout)
                    return true
                }
                if let timeout = options.timeout {
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        throw PublishError(reason: .timedOut(timeout), delivered: delivered())
                    }
                }
                while let done = try await group.next() {
                    if done {
                        group.cancelAll()
                        break
                    }
                }
                return outbox.read { Result(delivered: $0.acknowledged, lastSeq: $0.lastSeq, epoch: $0.epoch) }
            }
        } catch let error as PublishError {
            throw error
        } catch let error as ChatClientError where !outbox.read(\.connectedOnce) {
            // Never connected: nothing was sent, and the connection error says it all.
            throw error
        } catch {
            throw PublishError(reason: .connection(error), delivered: delivered())
        }
    }

    /// Follows the room (the first connection tried once on each server, no replay asked for) so that
    /// acks and refusals reach the outbox; the sender writes on each session it attaches.
    private static func follow(
        _ outbox: OutboxDriver,
        configuration: ClientConfiguration,
        options: Options,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup
    ) async throws {
        try await ChatFollower.follow(
            configuration,
            policy: options.policy,
            first: .triedOnce,
            resumes: false,
            logger: logger,
            eventLoopGroup: eventLoopGroup,
            onSession: { outbox.attach($0) }
        ) { event in
            switch event {
            case .frame(.ack(let ack)):
                guard options.reportsReceipts || options.reportsProgress else {
                    outbox.acknowledged(ack)
                    return true
                }
                // Told before the outbox can say it is finished, so none is missing at the end.
                let (receipts, status) = outbox.update { outbox in
                    outbox.acknowledged(ack.id, seq: ack.seq)
                    return (outbox.takeReceipts(), Status(sent: outbox.sent, acknowledged: outbox.acknowledged))
                }
                if !receipts.isEmpty || options.reportsProgress {
                    options.progress(.acknowledged(receipts.map { Receipt(id: $0.id, seq: $0.seq) }, status))
                }
            case .frame(.error(let error)):
                // An error about no message of ours (or about none at all) ends the run too.
                switch outbox.refused(error) {
                case .resendLater?, .unknown?: break
                case .rejected?, nil:
                    throw PublishError(reason: .rejected(error), delivered: outbox.read(\.acknowledged))
                }
            case .reconnecting(let attempt, let delay, let reason):
                options.progress(.reconnecting(attempt: attempt, delay: delay, reason: reason))
            case .connected, .gap, .incompleteReplay, .frame:
                break
            }
            // Done: the session closes (1000) as every session does when its follower stops.
            return !outbox.read(\.isFinished)
        }
    }
}
