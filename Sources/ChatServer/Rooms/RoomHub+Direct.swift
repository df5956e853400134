import ChatProtocol
import CoreMetrics
import NIOCore
import Synchronization

/// Direct messages and typing notices: frames for some members only, never in the room's seq space,
/// its history or the store.
extension RoomHub {
    /// Where a direct message went.
    enum DirectRoute: Equatable {
        /// Handed to the addressee's connection here (and echoed to the sender, after its ack).
        case delivered
        /// The addressee is a member on another node of the cluster: the node carries it there.
        case elsewhere(DirectMessage)
        /// Nobody in the room has that name (the sender was told).
        case noSuchUser
    }

    /// Sends `text` from member `userID` to the member named `name`: the addressee and the sender get it,
    /// the sender its seq-less ack first (when the message has an id), nobody else anything.
    func direct(in box: RoomBox, from userID: UserID, id: MessageID?, to name: String, text: String) -> DirectRoute {
        box.state.withLock { state in
            guard let sender = state.room.members.first(where: { $0.id == userID }) else { return .delivered }
            let connection = state.connections[userID]
            guard let addressee = state.room.member(named: UserName.normalized(name) ?? name) else {
                self.reject(.noSuchUser(name, in: state.room.name, id: id), to: connection)
                return .noSuchUser
            }
            self.metrics.directMessages.increment()
            let direct = DirectMessage(
                room: state.room.name,
                id: id ?? MessageID(RandomID.make(prefix: "s-", length: 12)),
                from: sender.name,
                uid: sender.id,
                to: addressee.name,
                toUid: addressee.id,
                text: text,
                ts: Timestamp.now()
            )
            guard let recipient = state.connections[addressee.id] else { return .elsewhere(direct) }
            let frame = ServerFrame.direct(direct).encode()
            self.echoDirect(frame, id: id, to: connection)
            if recipient !== connection { recipient.send(frame) }
            return .delivered
        }
    }

    /// The sender's side of a direct message: its ack (when it has an id), then the message itself.
    func echoDirect(_ frame: ByteBuffer, id: MessageID?, to sender: ServerConnection?) {
        guard let sender else { return }
        if let id { self.ack(id: id, seq: nil, to: sender) }
        sender.send(frame)
    }

    /// Tells the other members here that `userID` is typing and returns who that is; nil when `userID` is
    /// not a member or the room is too large for it (as for joins and leaves: n members typing would cost
    /// n² frames).
    @discardableResult
    func typing(in box: RoomBox, userID: UserID) -> ChatUser? {
        box.state.withLock { state in
            guard !self.isLarge(memberCount: state.room.members.count),
                let user = state.room.members.first(where: { $0.id == userID })
            else { return nil }
            state.announceTyping(of: user, except: userID)
            self.metrics.typingRelayed.increment()
            return user
        }
    }
}

extension ServerError {
    /// A direct message to `name`, whom nobody in `room` is called.
    static func noSuchUser(_ name: String, in room: RoomName, id: MessageID?) -> ServerError {
        ServerError(code: ChatErrorCode.noSuchUser, message: "nobody called '\(name)' is in \(room)", id: id)
    }
}

extension RoomHub.RoomBox.State {
    /// Queues a `typing` frame for every member here but `excluded` (the one typing).
    func announceTyping(of user: ChatUser, except excluded: UserID?) {
        let frame = ServerFrame.typing(PresenceEvent(room: self.room.name, user: user, ts: Timestamp.now())).encode()
        for (id, connection) in self.connections where id != excluded { connection.send(frame) }
    }
}
