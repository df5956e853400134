import NIOCore
import Synchronization

/// Hands frames to the connections of one event loop, in the order they were given, and writes each
/// connection's share with one flush per loop tick.
///
/// Any thread may `deliver` (a room broadcasts under its lock from whichever loop the sender is on): that
/// is an append under a short lock, and the first append of a tick schedules one drain on the loop. The
/// drain writes every frame to its connections without flushing, then flushes each connection it wrote
/// to once — so messages that arrive together (one read of a busy sender, many senders at once) leave in
/// one `writev` per connection instead of one `write` per message. Nothing here allocates per delivery.
final class DeliveryQueue: Sendable {
    /// Who gets a frame.
    enum Recipients {
        case one(ServerConnection)
        /// The room's members on this loop, shared with the room (copy-on-write) rather than copied.
        case all([ServerConnection])
    }

    private struct Inbox {
        var items: [(frame: ByteBuffer, to: Recipients)] = []
        var scheduled = false
    }

    /// What only the drain touches, on `eventLoop`: the inbox's spare array (swapped in, so neither side
    /// allocates per tick) and the connections written to in this tick.
    private struct Scratch {
        var spare: [(frame: ByteBuffer, to: Recipients)] = []
        var written: [ServerConnection] = []
    }

    let eventLoop: any EventLoop
    private let inbox = Mutex(Inbox())
    private let scratch: NIOLoopBoundBox<Scratch>

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.scratch = .makeBoxSendingValue(Scratch(), as: Scratch.self, eventLoop: eventLoop)
    }

    /// Queues `frame` (a complete wire frame) for `recipients`, all of which live on this loop.
    func deliver(_ frame: ByteBuffer, to recipients: Recipients) {
        let schedule = self.inbox.withLock { inbox in
            inbox.items.append((frame, recipients))
            defer { inbox.scheduled = true }
            return !inbox.scheduled
        }
        if schedule { self.eventLoop.execute { self.drain() } }
    }

    private func drain() {
        var items = self.scratch.value.spare
        self.scratch.value.spare = []
        self.inbox.withLock { inbox in
            swap(&inbox.items, &items)
            inbox.scheduled = false
        }
        for item in items {
            switch item.to {
            case .one(let connection):
                self.write(item.frame, to: connection)
            case .all(let connections):
                for connection in connections { self.write(item.frame, to: connection) }
            }
        }
        items.removeAll(keepingCapacity: true)
        self.scratch.value.spare = items
        for connection in self.scratch.value.written { connection.flushWrites() }
        self.scratch.value.written.removeAll(keepingCapacity: true)
    }

    private func write(_ frame: ByteBuffer, to connection: ServerConnection) {
        if connection.writeWithoutFlush(frame) { self.scratch.value.written.append(connection) }
    }
}
