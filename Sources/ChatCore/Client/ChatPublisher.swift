public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// Sends a stream of messages and returns once the server acknowledged every one, across reconnects.
public enum ChatPublisher {
    /// Reports from a publish run, for the user.
    public enum Progress: Sendable {
        /// The connection is lost; the next attempt comes after `delay`.
        case reconnecting(attempt: Int, delay: Duration, reason: String)
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
        policy: ReconnectPolicy = ReconnectPolicy(),
        timeout: Duration? = nil,
        window: Int = 1024,
        windowBytes: Int = 1 << 20,
        idPrefix: String = RandomID.make(length: 8),
        pacing: Bool = true,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared,
        progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Result where Texts.Element == String {
        let ledger = PublishLedger()
        let slots = SendWindow(capacity: window)
        let bytes = SendWindow(capacity: windowBytes)
        // The server's limit, known after the first welcome; the reader waits for it.
        let limit = LimitBox()
        do {
            return try await withThrowingTaskGroup(of: Int?.self) { group in
                // Input: one long-lived task, so the input sequence is never cancelled mid-run by a reconnect.
                group.addTask {
                    var index = 0
                    let maxBytes = try await limit.value()
                    for try await text in texts {
                        index += 1
                        let size = text.utf8.count
                        guard size <= maxBytes else {
                            // Report an exact count: what was sent before this one is acknowledged first.
                            await ledger.waitUntilIdle()
                            throw PublishError(
                                reason: .tooLarge(index: index, bytes: size, limit: maxBytes),
                                delivered: ledger.acknowledged
                            )
                        }
                        try await slots.acquire()
                        try await bytes.acquire(size)
                        ledger.append(
                            .init(number: index, id: "\(idPrefix)-\(index)", text: text, weight: bytes.clamped(size))
                        )
                    }
                    ledger.finishInput()
                    return nil
                }
                group.addTask {
                    try await Self.connectAndSend(
                        configuration: configuration,
                        policy: policy,
                        pacing: pacing,
                        ledger: ledger,
                        limit: limit,
                        release: { weight in
                            slots.release()
                            bytes.release(weight)
                        },
                        logger: logger,
                        eventLoopGroup: eventLoopGroup,
                        progress: progress
                    )
                    return ledger.acknowledged
                }
                if let timeout {
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        throw PublishError(reason: .timedOut(timeout), delivered: ledger.acknowledged)
                    }
                }
                while let result = try await group.next() {
                    if result != nil {
                        group.cancelAll()
                        break
                    }
                }
                return Result(delivered: ledger.acknowledged, lastSeq: ledger.lastSeq, epoch: limit.epoch)
            }
        } catch let error as PublishError {
            throw error
        } catch let error as ChatClientError where !limit.isKnown {
            // Never connected: nothing was sent, and the connection error says it all.
            throw error
        } catch {
            throw PublishError(reason: .connection(error), delivered: ledger.acknowledged)
        }
    }

    /// Connects (again) until the ledger is complete: each connection first sends what is pending, in order.
    private static func connectAndSend(
        configuration: ClientConfiguration,
        policy: ReconnectPolicy,
        pacing: Bool,
        ledger: PublishLedger,
        limit: LimitBox,
        release: @escaping @Sendable (Int) -> Void,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup,
        progress: @Sendable (Progress) -> Void
    ) async throws {
        var configuration = configuration
        var connectedOnce = false
        var failedFirst = 0
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        while true {
            let started = ContinuousClock.now
            do {
                try await ChatClient.withSession(configuration, logger: logger, eventLoopGroup: eventLoopGroup) {
                    session in
                    connectedOnce = true
                    limit.set(session.welcome.limits.maxMessageBytes, epoch: session.welcome.epoch)
                    try await Self.send(ledger: ledger, session: session, pacing: pacing, release: release)
                }
                return
            } catch {
                // The first connection fails fast (once every server was tried); later ones are retried
                // while the policy allows.
                guard connectedOnce else {
                    failedFirst += 1
                    guard failedFirst < configuration.servers.count else { throw error }
                    configuration.moveToNextServer()
                    continue
                }
                let delay = try policy.nextAttempt(
                    after: error,
                    connectedFor: ContinuousClock.now - started,
                    attempt: &attempt,
                    using: &generator
                )
                progress(.reconnecting(attempt: attempt, delay: delay, reason: "\(error)"))
                try await Task.sleep(for: delay)
                configuration.moveToNextServer()
            }
        }
    }

    /// The most messages written with one flush.
    static let batchLimit = 64

    /// On one connection: send pending entries in order as they come, read acks, until all are acknowledged.
    /// Sends are paced to the server's announced rate; a message refused as rate limited is sent again,
    /// with everything after it, once the server's `retryAfter` has passed.
    private static func send(
        ledger: PublishLedger,
        session: ChatSession,
        pacing: Bool,
        release: @escaping @Sendable (Int) -> Void
    ) async throws {
        let pacedRate = pacing ? session.welcome.limits.rateLimit : 0
        let burst = session.welcome.limits.burst
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await frame in session.events {
                    switch frame {
                    case .ack(let ack):
                        if let weight = ledger.acknowledge(ack.id, seq: ack.seq) { release(weight) }
                    case .error(let error) where error.code == ChatErrorCode.rateLimited && error.id != nil:
                        let seconds = error.retryAfter ?? 1
                        ledger.requestResend(of: error.id!, after: .seconds(seconds))
                    case .error(let error) where error.id.map(ledger.isPending) ?? true:
                        throw PublishError(reason: .rejected(error), delivered: ledger.acknowledged)
                    default:
                        continue
                    }
                }
                throw ChatClientError.connectionLost("the connection ended")
            }
            group.addTask {
                var pacer = Pacer(rate: pacedRate, burst: burst)
                var sent = 0
                while true {
                    if let resend = ledger.takeResend() {
                        try await Task.sleep(until: resend.notBefore)
                        // Never skip ahead: a pass cut short by the request must still send what it had left.
                        sent = min(sent, resend.number - 1)
                    }
                    let (entries, complete, version) = ledger.entries(after: sent)
                    if complete { return }
                    // What may go now goes in one write and one flush, up to `batchLimit` messages.
                    var batch: [ClientFrame] = []
                    var batchLast = sent
                    func flush() async throws {
                        guard !batch.isEmpty else { return }
                        try await session.send(contentsOf: batch)
                        batch.removeAll(keepingCapacity: true)
                        sent = batchLast
                    }
                    for entry in entries {
                        // Once a refusal is known, sending further ahead would only be refused too.
                        if ledger.resendRequested { break }
                        if let wait = pacer.reserve(now: .now) {
                            try await flush()
                            try await Task.sleep(for: wait)
                        }
                        batch.append(.message(id: entry.id, text: entry.text))
                        batchLast = entry.number
                        if batch.count >= Self.batchLimit { try await flush() }
                    }
                    try await flush()
                    if entries.isEmpty { await ledger.waitForChange(after: version) }
                    try Task.checkCancellation()
                }
            }
            // The sender finishing means everything was acknowledged; the reader only ends by failing.
            try await group.next()
            group.cancelAll()
        }
    }
}

/// Paces sends a little under the server's announced rate, so a well-behaved sender is never refused.
struct Pacer {
    private let rate: Double
    private let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    /// Paces to the server's `rate` and `burst` (a rate of 0: no pacing).
    init(rate: Double, burst: Int) {
        // 95 % of the rate and half the burst: the server's bucket started a moment before ours.
        self.rate = rate * 0.95
        self.burst = max(1, Double(burst) / 2)
        self.tokens = self.burst
    }

    /// Reserves a token; how long to wait before using it, or nil to go now.
    mutating func reserve(now: ContinuousClock.Instant) -> Duration? {
        guard self.rate > 0 else { return nil }
        if let last = self.last {
            let elapsed = now - last
            self.tokens = min(self.burst, self.tokens + elapsed.inSeconds * self.rate)
        }
        self.last = now
        self.tokens -= 1
        // Sleep in steps of at least 20 ms: one timer per message costs more CPU than the sending itself,
        // and the server's burst absorbs the small bunches this makes.
        guard self.tokens < -0.02 * self.rate else { return nil }
        return .nanoseconds(Int64(-self.tokens / self.rate * 1e9))
    }
}

/// The server's message size limit and epoch, set by each welcome; the input reader waits for the limit.
private final class LimitBox: Sendable {
    private let state = Mutex<(value: Int?, epoch: String?, waiters: [CheckedContinuation<Int, any Error>])>(
        (nil, nil, [])
    )

    func set(_ value: Int, epoch: String) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Int, any Error>] in
            state.value = value
            state.epoch = epoch
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The epoch of the latest connection.
    var epoch: String? { self.state.withLock { $0.epoch } }

    /// Whether a welcome arrived: a connection was made.
    var isKnown: Bool { self.state.withLock { $0.value != nil } }

    /// The limit; throws `CancellationError` when the run ends before any connection was made.
    func value() async throws -> Int {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let value = self.state.withLock { state -> Int? in
                    if let value = state.value { return value }
                    state.waiters.append(continuation)
                    return nil
                }
                if let value { continuation.resume(returning: value) }
            }
        } onCancel: {
            let waiters = self.state.withLock { state -> [CheckedContinuation<Int, any Error>] in
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: CancellationError()) }
        }
    }
}
