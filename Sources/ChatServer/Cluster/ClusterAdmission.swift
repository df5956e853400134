import ChatProtocol
import NIOCore
import NIOHTTP1

/// One connection's way into a cluster room, decided before the `101 Switching Protocols`.
///
/// A node admits a client only with the database's word (its name is unique on every node), and that
/// takes a round trip. Done after the upgrade, a client would hold an open WebSocket without a welcome
/// for that long, and miss what the room said meanwhile — `chat bench`, which starts publishing once
/// every connection has its 101, counted hundreds of such deliveries as lost. Done before it, a 101
/// means the client is in; a node that cannot ask PostgreSQL answers 503 and the client goes elsewhere.
///
/// Lives on the connection's event loop (`NIOLoopBound`): `shouldUpgrade` starts it, the upgrade takes
/// the member, and a connection that closes before that gives it back.
final class ClusterAdmission {
    enum State {
        case idle
        case admitting
        case admitted(user: ChatUser, box: RoomHub.RoomBox)
        /// Taken by the upgraded connection, or given back.
        case done
        /// The database could not be asked: the answer is 503.
        case failed
    }

    private(set) var state = State.idle

    /// Admits `request` through `cluster`; the future says whether to upgrade.
    static func start(
        _ admission: NIOLoopBound<ClusterAdmission>,
        request: ConnectRequest,
        cluster: ClusterNode,
        channel: any Channel
    ) -> EventLoopFuture<HTTPHeaders?> {
        admission.value.state = .admitting
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPHeaders?.self)
        // A connection that closes while the database answers returns its member then (see `finish`).
        channel.closeFuture.whenComplete { _ in admission.value.giveBack(to: cluster) }
        // The upgrader asks for a future; the database is asked from a task of its own, bounded by
        // `ClusterNode.callLimit` for every call it makes.
        promise.completeWithTask {
            do {
                let claimed = try await cluster.admit(request)
                return try await loop.submit {
                    guard channel.isActive, case .admitting = admission.value.state else {
                        cluster.giveBack(claimed)
                        return nil
                    }
                    admission.value.state = .admitted(user: claimed.user, box: claimed.box)
                    return HTTPHeaders()
                }.get()
            } catch {
                cluster.refused(error)
                loop.execute { admission.value.state = .failed }
                return nil
            }
        }
        return promise.futureResult
    }

    /// The upgraded connection takes the member it was admitted as.
    func take() -> (user: ChatUser, box: RoomHub.RoomBox)? {
        guard case .admitted(let user, let box) = self.state else { return nil }
        self.state = .done
        return (user, box)
    }

    /// Whether admission failed for want of the database (answer 503).
    var failed: Bool {
        if case .failed = self.state { return true }
        return false
    }

    private func giveBack(to cluster: ClusterNode) {
        switch self.state {
        case .admitted(let user, let box):
            self.state = .done
            cluster.giveBack((user, box))
        case .admitting:
            // The answer is still coming: `start` sees the closed channel and gives it back then.
            self.state = .done
        case .idle, .done, .failed:
            break
        }
    }
}
