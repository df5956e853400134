public import ChatProtocol

/// Why publishing stopped before every message was acknowledged.
public struct PublishError: Error, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable {
        /// The server refused a message (too large, bad request, …).
        case rejected(ServerError)
        /// A message is larger than the server's announced limit, so it was not sent.
        case tooLarge(index: Int, bytes: Int, limit: Int)
        /// The connection failed and could not be made again.
        case connection(any Error)
        /// The run took longer than its timeout.
        case timedOut(Duration)
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
        case .timedOut(let duration):
            return "timed out after \(duration.formattedSeconds); \(count)"
        }
    }
}
