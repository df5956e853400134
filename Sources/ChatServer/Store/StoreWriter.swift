import Logging
import Synchronization

/// Hands posted messages to a store in batches and reports each batch once it is durable.
///
/// Posting never waits for the disk: a message is queued in order (under its room's lock) and the
/// writer takes everything queued so far as one transaction, so one fsync covers every message that
/// arrived while the previous batch was being written. The busier the server, the bigger the batches.
/// The SQLite store queues messages that have their seq; the cluster queues posts that get theirs from
/// PostgreSQL, and learns them from the write's result.
final class StoreWriter<Item: Sendable>: Sendable {
    /// The most messages written in one transaction.
    static var maxBatch: Int { 4096 }
    /// Attempts to write a batch once shutting down (while running, a failing disk is retried forever).
    private static var attemptsAfterFinish: Int { 3 }

    /// Messages queued or being written.
    private struct Backlog {
        var queue: [Item] = []
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
    func enqueue(_ message: Item) {
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

    /// Writes batches until `finish()`, calling `onDurable` with each batch and what `write` returned for
    /// it, once it is durable.
    ///
    /// A failed write (disk full, I/O error, the database unreachable) is logged and retried every second
    /// with the same batch, so nothing is acknowledged out of order or lost; the senders' acks wait
    /// meanwhile. `write` must therefore be idempotent for a batch whose commit may have happened.
    /// - Parameters:
    ///   - store: Names the store in the log.
    ///   - describe: Turns a write's error into the log's words.
    func run<Output>(
        store: String,
        logger: Logger,
        describe: (any Error) -> String,
        write: ([Item]) async throws -> Output,
        onDurable: ([Item], Output) -> Void
    ) async {
        for await _ in self.doorbell {
            await self.drain(store, logger, describe, finishing: false, write: write, onDurable: onDurable)
        }
        await self.drain(store, logger, describe, finishing: true, write: write, onDurable: onDurable)
    }

    private func drain<Output>(
        _ store: String,
        _ logger: Logger,
        _ describe: (any Error) -> String,
        finishing: Bool,
        write: ([Item]) async throws -> Output,
        onDurable: ([Item], Output) -> Void
    ) async {
        while true {
            let batch = self.backlog.withLock { backlog in
                let batch: [Item]
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
            let output: Output
            while true {
                do {
                    output = try await write(batch)
                    logger.trace("stored", metadata: ["chat.messages": "\(batch.count)"])
                    break
                } catch {
                    attempt += 1
                    logger.error(
                        "cannot write to the store; retrying in 1 s",
                        metadata: [
                            "chat.store": "\(store)", "chat.messages": "\(batch.count)",
                            "chat.error": "\(describe(error))",
                        ]
                    )
                    // These messages were never acknowledged, so their senders will resend them elsewhere.
                    if (finishing && attempt >= Self.attemptsAfterFinish) || Task.isCancelled { return }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            onDurable(batch, output)
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
