import NIOCore
import Synchronization

/// One `DeliveryQueue` per event loop, made on first use.
final class DeliveryQueues: Sendable {
    private let queues = Mutex<[ObjectIdentifier: DeliveryQueue]>([:])

    func queue(for eventLoop: any EventLoop) -> DeliveryQueue {
        self.queues.withLock { queues in
            if let queue = queues[ObjectIdentifier(eventLoop)] { return queue }
            let queue = DeliveryQueue(eventLoop: eventLoop)
            queues[ObjectIdentifier(eventLoop)] = queue
            return queue
        }
    }
}
