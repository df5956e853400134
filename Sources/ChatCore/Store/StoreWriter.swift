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

    /// Messages queued or being written.
    private struct Backlog {
        var queue: [PersistedMessage] = []
        var writing = 0
    }

    /// How many messages may wait for the disk before new ones are refused (`rate_limited`), so a stalled or
    /// full disk cannot grow the server's memory without bound.
    let backlogLimit: Int
    private let backlog = Mutex(Backlog())
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    init(backlogLimit: Int) {
        self.backlogLimit = backlogLimit
        (self.doorbell, self.ring) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a message to be written after every message queued before it.
    func enqueue(_ message: PersistedMessage) {
        self.backlog.withLock { $0.queue.append(message) }
        self.ring.yield()
    }

    /// Whether the disk is so far behind that new messages should be refused for now.
    var isBehind: Bool {
        self.backlog.withLock { $0.queue.count + $0.writing >= self.backlogLimit }
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
            let batch = self.backlog.withLock { backlog in
                let batch: [PersistedMessage]
                if backlog.queue.count > Self.maxBatch {
                    batch = Array(backlog.queue.prefix(Self.maxBatch))
                    backlog.queue.removeFirst(Self.maxBatch)
                } else {
                    batch = backlog.queue.take()
                }
                backlog.writing = batch.count
                return batch
            }
            defer { self.backlog.withLock { $0.writing = 0 } }
            guard !batch.isEmpty else { return }
            var attempt = 0
            while true {
                do {
                    try await store.append(batch)
                    logger.trace("stored", metadata: ["chat.messages": "\(batch.count)"])
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
