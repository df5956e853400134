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
    /// Sends every text of `texts` as a message with its own id, keeping at most `window` messages and
    /// `windowBytes` bytes unacknowledged, and returns once all of them are acknowledged; the number of
    /// messages delivered.
    ///
    /// - Parameter idPrefix: Ids are `idPrefix-1`, `idPrefix-2`, …; a fresh random prefix by default.
    /// - Throws: `PublishError` with how many were delivered, when the server rejects one or the connection fails.
    public func publish<Texts: AsyncSequence & Sendable>(
        _ texts: Texts,
        window: Int = 256,
        windowBytes: Int = 1 << 20,
        idPrefix: String = RandomID.make(length: 8)
    ) async throws -> Int where Texts.Element == String {
        let slots = SendWindow(capacity: window)
        let bytes = SendWindow(capacity: windowBytes)
        let acked = InFlight()
        let limit = self.welcome.limits.maxMessageBytes
        do {
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        for try await frame in self.events {
                            switch frame {
                            case .ack(let ack):
                                guard let size = acked.acknowledge(ack.id) else { continue }
                                slots.release()
                                bytes.release(size)
                            case .error(let error):
                                throw PublishError(reason: .rejected(error), delivered: acked.value)
                            default:
                                continue
                            }
                        }
                        throw ChatClientError.connectionLost("the connection ended")
                    } catch {
                        slots.fail(error)
                        bytes.fail(error)
                        throw error
                    }
                }
                group.addTask {
                    var index = 0
                    for try await text in texts {
                        index += 1
                        let size = text.utf8.count
                        guard size <= limit else {
                            // Report an exact count: what was sent before this one is acknowledged first.
                            try await slots.drain()
                            try await bytes.drain()
                            throw PublishError(
                                reason: .tooLarge(index: index, bytes: size, limit: limit),
                                delivered: acked.value
                            )
                        }
                        let id = "\(idPrefix)-\(index)"
                        try await slots.acquire()
                        try await bytes.acquire(size)
                        acked.sent(id, size: bytes.clamped(size))
                        try await self.send(.message(id: id, text: text))
                    }
                    try await slots.drain()
                    try await bytes.drain()
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

/// The messages sent and not yet acknowledged (with their window weight), and the count acknowledged.
private final class InFlight: Sendable {
    private let state = Mutex<(pending: [String: Int], acknowledged: Int)>(([:], 0))

    /// Records a message as sent.
    func sent(_ id: String, size: Int) {
        self.state.withLock { $0.pending[id] = size }
    }

    /// Records the ack for `id`; its weight, or nil for an id this run did not send (or acked twice).
    func acknowledge(_ id: String) -> Int? {
        self.state.withLock { state in
            guard let size = state.pending.removeValue(forKey: id) else { return nil }
            state.acknowledged += 1
            return size
        }
    }

    /// How many messages were acknowledged.
    var value: Int { self.state.withLock { $0.acknowledged } }
}
