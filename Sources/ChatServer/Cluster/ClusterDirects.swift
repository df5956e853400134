import ChatProtocol
import NIOCore
import Synchronization

/// Direct messages between the nodes of a cluster: those for members on other nodes wait here to be
/// written to `chat_directs` in order, and a doorbell says when this node has some to take.
///
/// A message's text never travels in a notification (NOTIFY holds 8000 bytes, a message up to 64 KiB):
/// the row does, the notice only names the node to look. One task writes and one takes, each in order,
/// so the direct messages from one member to another arrive in the order they were sent.
final class ClusterDirects: Sendable {
    /// A direct message for a member on another node, with whom to answer once it is written.
    struct Outgoing: Sendable {
        var direct: DirectMessage
        /// Its `direct` frame, encoded once: the row's text and the sender's copy.
        var frame: ByteBuffer
        /// The sender's own id for it, acknowledged once written (nil: the sender asked for no ack).
        var clientID: MessageID?
        var sender: ServerConnection
    }

    private let outgoing = Mutex<[Outgoing]>([])
    let toWrite: AsyncStream<Void>
    private let writeBell: AsyncStream<Void>.Continuation
    let toTake: AsyncStream<Void>
    private let takeBell: AsyncStream<Void>.Continuation

    init() {
        // One pending ring is enough: each wakes a task that handles everything there is.
        (self.toWrite, self.writeBell) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (self.toTake, self.takeBell) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `outgoing` for the writer.
    func send(_ outgoing: Outgoing) {
        self.outgoing.withLock { $0.append(outgoing) }
        self.writeBell.yield()
    }

    /// Everything queued so far, oldest first.
    func takeOutgoing() -> [Outgoing] {
        self.outgoing.withLock { queued in
            defer { queued.removeAll() }
            return queued
        }
    }

    /// Rows for this node's members may be waiting in `chat_directs`.
    func ring() {
        self.takeBell.yield()
    }

    /// The node stops: both tasks end once they handled what they have.
    func finish() {
        self.writeBell.finish()
        self.takeBell.finish()
    }
}
