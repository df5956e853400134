import ChatProtocol
import NIOCore
import NIOHTTP1

/// One connection's way into its room when the log grants places before the `101 Switching Protocols`
/// (`RoomLog.admitsBeforeUpgrade`: a cluster, whose names are unique on every node).
///
/// A node admits a client only with the database's word, and that takes a round trip. Done after the
/// upgrade, a client would hold an open WebSocket without a welcome for that long, and miss what the room
/// said meanwhile — `chat bench`, which starts publishing once every connection has its 101, counted
/// hundreds of such deliveries as lost. Done before it, a 101 means the client is in; a log that cannot
/// admit answers 503 and the client goes elsewhere.
///
/// Lives on the connection's event loop (`NIOLoopBound`): `shouldUpgrade` starts it, the upgrade takes
/// the member, and a connection that closes before that gives it back.
final class Admission {
    enum State {
        case idle
        case admitting
        case admitted(Claim)
        /// Taken by the upgraded connection, or given back.
        case done
        /// The log could not admit: the answer is 503, with this reason.
        case failed(String)
    }

    private(set) var state = State.idle

    /// Admits `request` into `hub` through its log; the future says whether to upgrade.
    static func start(
        _ admission: NIOLoopBound<Admission>,
        request: ConnectRequest,
        hub: RoomHub,
        channel: any Channel
    ) -> EventLoopFuture<HTTPHeaders?> {
        admission.value.state = .admitting
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPHeaders?.self)
        // A connection that closes while the log answers returns its member then (see `finish`).
        channel.closeFuture.whenComplete { _ in admission.value.giveBack(to: hub) }
        // The upgrader asks for a future; the log is asked from a task of its own (a cluster's bounded by
        // `ClusterNode.callLimit` for every call it makes).
        promise.completeWithTask {
            do {
                let claim = try await hub.log.admit(request, to: hub)
                return try await loop.submit {
                    guard channel.isActive, case .admitting = admission.value.state else {
                        if let claim { hub.log.giveBack(claim, to: hub) }
                        return nil
                    }
                    // Without a claim the join makes the member, as it does for a log that admits nobody.
                    admission.value.state = claim.map(State.admitted) ?? .done
                    return HTTPHeaders()
                }.get()
            } catch {
                let reason = hub.log.refused(error)
                loop.execute { admission.value.state = .failed(reason) }
                return nil
            }
        }
        return promise.futureResult
    }

    /// The upgraded connection takes the member it was admitted as.
    func take() -> Claim? {
        guard case .admitted(let claim) = self.state else { return nil }
        self.state = .done
        return claim
    }

    /// Why admission failed (answer 503); nil when it did not.
    var refusal: String? {
        if case .failed(let reason) = self.state { return reason }
        return nil
    }

    private func giveBack(to hub: RoomHub) {
        switch self.state {
        case .admitted(let claim):
            self.state = .done
            hub.log.giveBack(claim, to: hub)
        case .admitting:
            // The answer is still coming: `start` sees the closed channel and gives it back then.
            self.state = .done
        case .idle, .done, .failed:
            break
        }
    }
}
