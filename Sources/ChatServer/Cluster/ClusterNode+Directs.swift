import ChatProtocol
import Logging
import NIOCore

/// Direct messages and typing notices between members on different nodes.
extension ClusterNode {
    /// Writes what `carry` queued, a batch at a time, in order.
    func writeDirects() async {
        for await _ in self.directs.toWrite {
            let batch = self.directs.takeOutgoing()
            guard !batch.isEmpty else { continue }
            do {
                let found = try await withDeadline(Self.callLimit) {
                    try await self.store.write(directs: batch)
                }
                for outgoing in batch {
                    if found.contains(outgoing.direct.toUid) {
                        self.hub.echoDirect(outgoing.frame, id: outgoing.clientID, to: outgoing.sender)
                    } else {
                        self.hub.reject(
                            .noSuchUser(outgoing.direct.to, in: outgoing.direct.room, id: outgoing.clientID),
                            to: outgoing.sender
                        )
                    }
                }
            } catch {
                self.logger.warning(
                    "cannot write direct messages to the cluster",
                    metadata: ["chat.error": "\(ClusterStore.describe(error))"]
                )
                for outgoing in batch {
                    // The sender resends it, as it would a message the store could not take.
                    self.hub.reject(
                        ServerError(
                            code: ChatErrorCode.rateLimited,
                            message: "the server cannot deliver direct messages right now; resend after retryAfter",
                            id: outgoing.clientID,
                            retryAfter: 1
                        ),
                        to: outgoing.sender
                    )
                }
            }
        }
    }

    /// Takes the rows written for this node's members and hands each to its connection, whenever the
    /// doorbell rings.
    func takeDirects() async {
        for await _ in self.directs.toTake {
            do {
                let taken = try await withDeadline(Self.callLimit) { try await self.store.takeDirects() }
                for row in taken {
                    var frame = ByteBuffer()
                    frame.writeString(row.frame)
                    self.hub.deliverDirect(frame, to: row.uid, in: row.room)
                }
            } catch {
                // The rows stay: the next ring, or the listener's next resync, takes them.
                self.logger.warning(
                    "cannot read direct messages from the cluster",
                    metadata: ["chat.error": "\(ClusterStore.describe(error))"]
                )
            }
        }
    }
}
