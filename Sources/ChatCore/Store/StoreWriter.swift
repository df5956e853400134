import Logging
import Synchronization

/// Hands posted messages to the store in batches and reports each batch once it is durable.
///
/// Posting never waits for the disk: a message is queued in seq order (under its room's lock) and the
/// writer takes everything queued so far as one transaction, so one fsync covers every message that
/// arrived while the previous batch was being written. The busier the server, the bigger the batches.
final class StoreWriter: Sendable {
    /// The most messages written in one transaction.
    static let maxBatch = 4096
    /// Attempts to write a batch once shutting down (while running, a failing disk is retried forever).
    private static let attemptsAfterFinish = 3

    private let queue = Mutex<[PersistedMessage]>([])
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    init() {
        (self.doorbell, self.ring) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a message to be written after every message queued before it.
    func enqueue(_ message: PersistedMessage) {
        self.queue.withLock { $0.append(message) }
        self.ring.yield()
    }

    /// No more messages are coming: `run` writes what is queued and returns.
    func finish() {
        self.ring.finish()
    }

    /// Writes batches until `finish()`, calling `onDurable` with each batch once it is on disk.
    ///
    /// A failed write (disk full, I/O error) is logged and retried every second with the same batch, so
    /// nothing is acknowledged out of order or lost; the senders' acks wait meanwhile.
    func run(store: MessageStore, logger: Logger, onDurable: ([PersistedMessage]) -> Void) async {
        for await _ in self.doorbell {
            await self.drain(store: store, logger: logger, finishing: false, onDurable: onDurable)
        }
        await self.drain(store: store, logger: logger, finishing: true, onDurable: onDurable)
    }

    private func drain(
        store: MessageStore,
        logger: Logger,
        finishing: Bool,
        onDurable: ([PersistedMessage]) -> Void
    ) async {
        while true {
            let batch = self.queue.withLock { queue in
                guard queue.count > Self.maxBatch else { return queue.take() }
                defer { queue.removeFirst(Self.maxBatch) }
                return Array(queue.prefix(Self.maxBatch))
            }
            guard !batch.isEmpty else { return }
            var attempt = 0
            while true {
                do {
                    try await store.append(batch)
                    break
                } catch {
                    attempt += 1
                    logger.error(
                        "cannot write to the store; retrying in 1 s",
                        metadata: [
                            "chat.store": "\(store.path)", "chat.messages": "\(batch.count)",
                            "chat.error": "\(MessageStore.describe(error))",
                        ]
                    )
                    // These messages were never acknowledged, so their senders will resend them elsewhere.
                    if (finishing && attempt >= Self.attemptsAfterFinish) || Task.isCancelled { return }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            onDurable(batch)
        }
    }
}

extension Array {
    /// Returns the elements and leaves the array empty, without copying.
    fileprivate mutating func take() -> [Element] {
        var taken: [Element] = []
        swap(&taken, &self)
        return taken
    }
}
