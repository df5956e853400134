import Synchronization

/// Why publishing stopped before every message was acknowledged.
public struct PublishError: Error, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable {
        /// The server refused a message (too large, bad request, …).
        case rejected(ServerError)
        /// A message is larger than the server's announced limit, so it was not sent.
        case tooLarge(index: Int, bytes: Int, limit: Int)
        /// The connection failed.
        case connection(any Error)
    }

    /// What went wrong.
    public let reason: Reason
    /// Messages the server acknowledged before it went wrong.
    public let delivered: Int

    public var description: String {
        let count = "\(self.delivered) message\(self.delivered == 1 ? "" : "s") delivered"
        switch self.reason {
        case .rejected(let error):
            return "the server rejected a message: \(error.message) (\(error.code)); \(count)"
        case .tooLarge(let index, let bytes, let limit):
            return "message \(index) is \(bytes) bytes, over the server's limit of \(limit); \(count)"
        case .connection(let error):
            return "\(error); \(count)"
        }
    }
}

extension ChatSession {
    /// Sends every text of `texts` as a message with its own id, keeping at most `window` unacknowledged,
    /// and returns once all of them are acknowledged; the number of messages delivered.
    ///
    /// - Parameter idPrefix: Ids are `idPrefix-1`, `idPrefix-2`, …; a fresh random prefix by default.
    /// - Throws: `PublishError` with how many were delivered, when the server rejects one or the connection fails.
    public func publish<Texts: AsyncSequence & Sendable>(
        _ texts: Texts,
        window: Int = 256,
        idPrefix: String = RandomID.make(length: 8)
    ) async throws -> Int where Texts.Element == String {
        let slots = SendWindow(size: window)
        let acked = AckCounter()
        let limit = self.welcome.limits.maxMessageBytes
        do {
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        for try await frame in self.events {
                            switch frame {
                            case .ack(let ack) where ack.id.hasPrefix(idPrefix + "-"):
                                acked.increment()
                                slots.release()
                            case .error(let error):
                                throw PublishError(reason: .rejected(error), delivered: acked.value)
                            default:
                                continue
                            }
                        }
                        throw ChatClientError.connectionLost("the connection ended")
                    } catch {
                        slots.fail(error)
                        throw error
                    }
                }
                group.addTask {
                    var index = 0
                    for try await text in texts {
                        index += 1
                        let bytes = text.utf8.count
                        guard bytes <= limit else {
                            // Report an exact count: what was sent before this one is acknowledged first.
                            try await slots.drain()
                            throw PublishError(
                                reason: .tooLarge(index: index, bytes: bytes, limit: limit),
                                delivered: acked.value
                            )
                        }
                        try await slots.acquire()
                        try await self.send(.message(id: "\(idPrefix)-\(index)", text: text))
                    }
                    try await slots.drain()
                    return true
                }
                // The sender finishing means everything was acknowledged; the reader never finishes first.
                _ = try await group.next()
                group.cancelAll()
                return acked.value
            }
        } catch let error as PublishError {
            throw error
        } catch {
            throw PublishError(reason: .connection(error), delivered: acked.value)
        }
    }
}

/// The number of acknowledged messages, shared by the sending and the reading task.
private final class AckCounter: Sendable {
    private let count = Mutex(0)

    func increment() { self.count.withLock { $0 += 1 } }

    var value: Int { self.count.withLock { $0 } }
}
