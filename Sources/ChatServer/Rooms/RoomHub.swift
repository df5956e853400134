import ChatProtocol
import CoreMetrics
import NIOCore
import NIOWebSocket
import Synchronization

/// All rooms of a server and the connections in them.
///
/// Each room is a `Room` value behind its own lock, so traffic in one room never waits on another.
/// Everything that must be ordered — a join's welcome and replay against live messages, an ack against
/// its broadcast — happens under the room's lock, and handing a frame to a connection is only an append
/// to its outbox, so the lock is never held across I/O.
final class RoomHub: Sendable {
    /// Where the rooms' messages get their seqs and become visible: memory, a file or a cluster.
    let log: any RoomLog
    /// The seq space: the log's.
    var epoch: String { self.log.epoch }
    let metrics: ServerMetrics
    let configuration: ServerConfiguration
    let rooms = Mutex<[RoomName: RoomBox]>([:])

    init(configuration: ServerConfiguration, log: any RoomLog = MemoryLog()) {
        self.configuration = configuration
        self.metrics = ServerMetrics(configuration.metrics ?? .init(factory: MetricsSystem.factory))
        self.log = log
    }

    /// Whether the log is so far behind that new messages are refused for now (`rate_limited`).
    var isStoreBehind: Bool {
        self.log.isBehind
    }

    /// Brings back the rooms a store kept, before the first client joins.
    func restore(_ stored: [StoredRoom]) {
        self.rooms.withLock { rooms in
            for storedRoom in stored {
                var room = self.makeRoom(storedRoom.name)
                room.restore(lastSeq: storedRoom.lastSeq, messages: storedRoom.messages)
                rooms[storedRoom.name] = RoomBox(room: room)
            }
        }
    }

    func makeRoom(_ name: RoomName) -> Room {
        Room(
            name: name,
            historyLimit: self.configuration.historySize,
            dedupWindow: self.configuration.dedupWindow,
            requiresConfirmation: self.log.confirmsPosts
        )
    }

    /// What a store should read back for `request` when the room's history cannot serve it: the seqs
    /// after its `since`, or where to look for its `sinceTime`.
    func missing(for request: ConnectRequest) -> Missing? {
        guard let box = self.rooms.withLock({ $0[request.room] }) else { return nil }
        return box.state.withLock { self.missing(for: request, in: $0.room) }
    }

    /// What `request` needs from the store that `room`'s history cannot give (`since` first, as in `join`).
    private func missing(for request: ConnectRequest, in room: Room) -> Missing? {
        if let since = request.since {
            return room.missing(since: since, epoch: request.epoch, currentEpoch: self.epoch).map(Missing.seqs)
        }
        guard let time = request.sinceTime else { return nil }
        return room.missing(from: time).map { Missing.time(time, through: $0.through, historyStart: $0.historyStart) }
    }

    /// What a joiner needs from the store (see `missing(for:)`).
    enum Missing: Equatable {
        /// The messages with these seqs.
        case seqs(ClosedRange<UInt64>)
        /// The messages from `time` on, up to `through`; those from `historyStart` on the room has.
        case time(Timestamp, through: UInt64, historyStart: UInt64)
    }

    /// Adds `connection` to its room: queues its welcome and replay, tells the others, and returns who it is
    /// — or nil, having done nothing, when `readAgain` and the store must be read (again) first: the history
    /// moved past what the client asks for while the store was (or was not) read for it.
    /// - Parameters:
    ///   - earlier: Messages read back from the store for a resume older than the history.
    ///   - stored: What the store has for a `sinceTime` older than the history.
    ///   - claimed: The member as the log admitted it before the upgrade (`RoomLog.admit`: in a cluster, its
    ///     name unique on every node), in the room held for it until the join that does not return nil.
    func join(
        _ connection: ServerConnection,
        request: ConnectRequest,
        earlier: [Room.StoredMessage] = [],
        stored: Room.StoredSince? = nil,
        claimed: Claim? = nil,
        readAgain: Bool = false
    ) -> (user: ChatUser, box: RoomBox)? {
        let userID = claimed?.user.id ?? UserID(RandomID.make(prefix: "u-"))
        let requestedName = request.name ?? RandomID.make(prefix: "guest-", length: 4)
        // The hub lock is held only to find (or make) the room and hold it for this joiner (`joining`), so
        // it is not dropped before the join: the welcome and replay are queued under the room's lock alone,
        // and joins to different rooms do not wait for each other. A cluster's joiner holds it already.
        let box =
            claimed?.box
            ?? self.rooms.withLock { rooms in
                let box = rooms[request.room] ?? RoomBox(room: self.makeRoom(request.room))
                rooms[request.room] = box
                box.state.withLock { $0.joining += 1 }
                return box
            }
        let user = box.state.withLock { state -> ChatUser? in
            let timed = request.since == nil ? request.sinceTime : nil
            let replay =
                if let timed {
                    state.room.replay(from: timed, stored: stored)
                } else {
                    state.room.replay(
                        since: request.since,
                        epoch: request.epoch,
                        currentEpoch: self.epoch,
                        count: request.history,
                        earlier: earlier
                    )
                }
            // Nothing was read, yet the store is needed now (messages left the history meanwhile).
            let nothingRead = timed == nil ? earlier.isEmpty : stored == nil
            if readAgain, replay.recovered == false, self.log.readsBack, nothingRead,
                self.missing(for: request, in: state.room) != nil
            {
                // A cluster's joiner keeps its hold for the next attempt; this one was taken above.
                if claimed == nil { state.joining -= 1 }
                return nil
            }
            state.joining -= 1
            let user: ChatUser
            if let claimed {
                state.room.admit(claimed.user)
                user = claimed.user
            } else {
                user = state.room.join(id: userID, requestedName: requestedName)
            }
            let members = state.room.members
            let large = self.isLarge(memberCount: members.count)
            let welcome = Welcome(
                room: state.room.name,
                you: user,
                users: large ? Array(members.prefix(self.configuration.presenceLimit)) : members,
                userCount: members.count,
                seq: state.room.confirmedSeq,
                epoch: self.epoch,
                limits: self.configuration.limits,
                recovered: replay.recovered,
                firstSeq: replay.firstSeq
            )
            connection.send(ServerFrame.welcome(welcome).encode())
            for frame in replay.frames { connection.send(frame) }
            if !large {
                let joined = ServerFrame.join(
                    PresenceEvent(room: state.room.name, user: user, ts: Timestamp.now())
                )
                state.broadcast(joined.encode())
            }
            state.add(connection, id: user.id)
            return user
        }
        return user.map { ($0, box) }
    }

    /// Posts a message: acks it to the sender (when it has an id) and broadcasts it to the room, sender included.
    /// A resent id is acknowledged again with its first seq and not broadcast twice. With a store, both wait
    /// until the message is durable (`confirm(_:)`).
    /// - Returns: Whether the sender must stop reading (`ServerConnection.pauseReading()`) because a member
    ///   of the room is behind; the room resumes it once nobody is.
    func post(in box: RoomBox, from userID: UserID, id: MessageID?, text: String) -> Bool {
        box.state.withLock { state in
            guard let user = state.room.members.first(where: { $0.id == userID }) else { return false }
            self.metrics.messagesReceived.increment()
            switch self.log.post(text, id: id, from: user, in: &state.room) {
            case .visible(let stored):
                // The ack goes first, so the sender knows the seq of its own message when the echo arrives.
                if let id { self.ack(id: id, seq: stored.message.seq, to: state.connections[user.id]) }
                self.broadcastMessage(stored.frame, in: state)
            case .duplicate(let seq):
                if let id { self.ack(id: id, seq: seq, to: state.connections[user.id]) }
            case .pending:
                break
            }
            guard state.mustPause(userID) else { return false }
            self.metrics.publishersPaused.increment()
            return true
        }
    }

    /// Member `userID`'s backlog passed its bound (`behind`), or it caught up.
    func member(_ userID: UserID, in box: RoomBox, isBehind behind: Bool) {
        box.state.withLock { $0.setBehind(userID, behind) }
    }

    /// The store has written `batch`: its messages become visible — acked to whoever waits, broadcast, replayable.
    func confirm(_ batch: [PersistedMessage]) {
        var through: [RoomName: UInt64] = [:]
        for persisted in batch {
            through[persisted.message.room] = max(through[persisted.message.room] ?? 0, persisted.message.seq)
        }
        for (name, seq) in through {
            guard let box = self.rooms.withLock({ $0[name] }) else { continue }
            box.state.withLock { state in
                for confirmed in state.room.confirm(through: seq) {
                    for target in confirmed.acks {
                        self.ack(id: target.id, seq: confirmed.stored.message.seq, to: state.connections[target.userID])
                    }
                    self.broadcastMessage(confirmed.stored.frame, in: state)
                }
            }
        }
    }

    /// Renames a member and tells the room, the member included.
    func rename(in box: RoomBox, userID: UserID, to name: String) {
        box.state.withLock { state in
            guard let (user, previousName) = state.room.rename(id: userID, to: name) else { return }
            state.announceRename(of: user, from: previousName)
        }
    }

    /// Removes a member, tells the others, and forgets the room when nothing is left in it.
    func leave(_ box: RoomBox, userID: UserID) {
        self.rooms.withLock { rooms in
            let disposable = box.state.withLock { state in
                let announce = !self.isLarge(memberCount: state.room.members.count)
                state.remove(id: userID)
                if let user = state.room.leave(id: userID), announce {
                    let event = PresenceEvent(room: state.room.name, user: user, ts: Timestamp.now())
                    state.broadcast(ServerFrame.leave(event).encode())
                }
                return self.log.canForget(state) && state.joining == 0
            }
            if disposable, rooms[box.name] === box {
                rooms[box.name] = nil
            }
        }
    }

    /// Asks every connection in every room to close with `code` (graceful shutdown sends 1001).
    func closeAll(_ code: WebSocketErrorCode, reason: String) {
        let connections = self.rooms.withLock { rooms in
            rooms.values.flatMap { box in box.state.withLock { Array($0.connections.values) } }
        }
        for connection in connections { connection.requestClose(code, reason: reason) }
    }

    /// A room over the presence limit does not announce joins and leaves, and its welcome lists only the
    /// first members: with n members joining, each announced, the room would cost n² frames.
    func isLarge(memberCount: Int) -> Bool {
        memberCount > self.configuration.presenceLimit
    }

    func ack(id: MessageID, seq: UInt64?, to connection: ServerConnection?) {
        guard let connection else { return }
        connection.send(ServerFrame.ack(Ack(id: id, seq: seq)).encode())
        self.metrics.acks.increment()
    }

    /// Tells one client what was wrong with its frame (counted by reason); its connection stays.
    func reject(_ error: ServerError, to connection: ServerConnection?) {
        self.metrics.rejected(error.code)
        connection?.send(ServerFrame.error(error).encode())
    }

    func broadcastMessage(_ frame: ByteBuffer, in state: RoomBox.State) {
        state.broadcast(frame)
        self.metrics.messagesBroadcast.increment()
        self.metrics.deliveries.increment(by: Int64(state.connections.count))
    }

    /// `GET /rooms` for a server on its own: every room it has (one with messages is kept for good).
    var roomList: RoomList {
        let boxes = self.rooms.withLock { Array($0.values) }
        return RoomList(
            boxes.map { box in
                box.state.withLock { state in
                    RoomList.Room(
                        name: state.room.name,
                        members: state.room.members.count,
                        lastSeq: state.room.confirmedSeq,
                        lastActivity: state.room.lastActivity
                    )
                }
            }
        )
    }

    /// How many rooms there are and how many messages their histories hold (for `/metrics`).
    var levels: (rooms: Int, history: Int) {
        let boxes = self.rooms.withLock { Array($0.values) }
        return (boxes.count, boxes.reduce(0) { total, box in total + box.state.withLock { $0.room.historyCount } })
    }
}
