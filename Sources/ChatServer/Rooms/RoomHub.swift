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
    /// One room and the connections of its members, keyed by user id.
    final class RoomBox: Sendable {
        struct State {
            var room: Room
            var connections: [UserID: ServerConnection] = [:]
            /// The same connections grouped by event loop: a broadcast is one queue append per loop.
            var groups: [Group] = []
            /// Members whose backlog passed `maxClientBacklog`: while there are any, the room reads nothing
            /// more from its publishers, so a reader that keeps reading catches up instead of being dropped.
            var behind: Set<UserID> = []
            /// Members whose reading was paused for the members behind, to resume when they caught up.
            var paused: Set<UserID> = []
            /// Clients on their way in (the cluster is loading the room or claiming their names): the
            /// room is not forgotten under them.
            var joining = 0

            mutating func add(_ connection: ServerConnection, id: UserID) {
                self.connections[id] = connection
                if let index = self.groups.firstIndex(where: { $0.queue === connection.queue }) {
                    self.groups[index].members.append(connection)
                } else {
                    self.groups.append(Group(queue: connection.queue, members: [connection]))
                }
            }

            mutating func remove(id: UserID) {
                self.paused.remove(id)
                self.setBehind(id, false)
                guard let connection = self.connections.removeValue(forKey: id),
                    let index = self.groups.firstIndex(where: { $0.queue === connection.queue })
                else { return }
                self.groups[index].members.removeAll { $0 === connection }
                if self.groups[index].members.isEmpty { self.groups.remove(at: index) }
            }

            /// Marks member `id` as behind or caught up; once nobody is behind, paused members read again.
            mutating func setBehind(_ id: UserID, _ behind: Bool) {
                if behind {
                    // Only a member can hold the room: one that left meanwhile must not pause it for good.
                    if self.connections[id] != nil { self.behind.insert(id) }
                    return
                }
                guard self.behind.remove(id) != nil, self.behind.isEmpty else { return }
                for paused in self.paused { self.connections[paused]?.resumeReading() }
                self.paused.removeAll()
            }

            /// Whether member `id`, who just posted, must stop reading until the members behind caught up.
            mutating func mustPause(_ id: UserID) -> Bool {
                guard !self.behind.isEmpty, self.connections[id] != nil else { return false }
                return self.paused.insert(id).inserted
            }

            /// Tells every member that `user` was `previousName`.
            func announceRename(of user: ChatUser, from previousName: String) {
                let event = PresenceEvent(
                    room: self.room.name,
                    user: user,
                    previousName: previousName,
                    ts: Timestamp.now()
                )
                self.broadcast(ServerFrame.nick(event).encode())
            }

            /// Queues one encoded frame for every member.
            func broadcast(_ payload: ByteBuffer) {
                guard !self.groups.isEmpty else { return }
                let frame = WireFrame.encode(payload)
                for group in self.groups { group.queue.deliver(frame, to: .all(group.members)) }
            }
        }

        struct Group {
            let queue: DeliveryQueue
            var members: [ServerConnection]
        }

        let name: RoomName
        let state: Mutex<State>

        init(room: Room) {
            self.name = room.name
            self.state = Mutex(State(room: room))
        }
    }

    /// The seq space: one per server run, or the store's for as long as the store lives.
    let epoch: String
    /// With a store: where posted messages go before they are visible (see `confirm(_:)`).
    let writer: StoreWriter<PersistedMessage>?
    /// In a cluster: where posted messages wait for PostgreSQL to give them their seqs (see `acknowledge`).
    let posts: StoreWriter<ClusterPost>?
    let metrics: ServerMetrics
    let configuration: ServerConfiguration
    let rooms = Mutex<[RoomName: RoomBox]>([:])

    init(
        configuration: ServerConfiguration,
        epoch: String = RandomID.make(length: 12),
        writer: StoreWriter<PersistedMessage>? = nil,
        posts: StoreWriter<ClusterPost>? = nil
    ) {
        self.configuration = configuration
        self.metrics = ServerMetrics(configuration.metrics ?? .init(factory: MetricsSystem.factory))
        self.epoch = epoch
        self.writer = writer
        self.posts = posts
    }

    /// Whether the store is so far behind that new messages are refused for now (`rate_limited`).
    var isStoreBehind: Bool {
        self.writer?.isBehind ?? self.posts?.isBehind ?? false
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
            requiresConfirmation: self.writer != nil
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
    ///   - claimed: In a cluster, the member as the database admitted it (its name unique on every node),
    ///     in the room `ClusterNode.prepare` reserved (held until the join that does not return nil).
    func join(
        _ connection: ServerConnection,
        request: ConnectRequest,
        earlier: [Room.StoredMessage] = [],
        stored: Room.StoredSince? = nil,
        claimed: (user: ChatUser, box: RoomBox)? = nil,
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
            if readAgain, replay.recovered == false, self.writer != nil || self.posts != nil, nothingRead,
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
            if let posts = self.posts {
                // Its seq comes from PostgreSQL; an id of the server's own makes a retried write safe too.
                posts.enqueue(
                    ClusterPost(
                        room: state.room.name,
                        id: id ?? MessageID(RandomID.make(prefix: "s-", length: 12)),
                        clientID: id != nil,
                        from: user.name,
                        uid: user.id,
                        text: text,
                        ts: Timestamp.now()
                    )
                )
            } else {
                self.postLocally(user: user, id: id, text: text, in: &state)
            }
            guard state.mustPause(userID) else { return false }
            self.metrics.publishersPaused.increment()
            return true
        }
    }

    private func postLocally(user: ChatUser, id: MessageID?, text: String, in state: inout RoomBox.State) {
        switch state.room.post(from: user, id: id, text: text, at: Timestamp.now()) {
        case .posted(let stored):
            // The ack goes first, so the sender knows the seq of its own message when the echo arrives.
            if let id { self.ack(id: id, seq: stored.message.seq, to: state.connections[user.id]) }
            self.broadcastMessage(stored.frame, in: state)
        case .unconfirmed(let pending):
            // Queued under the room's lock, so the store receives each room's messages in seq order.
            self.writer?.enqueue(PersistedMessage(message: pending.stored.message, clientID: pending.clientID))
        case .duplicate(let seq):
            if let id { self.ack(id: id, seq: seq, to: state.connections[user.id]) }
        case .duplicateUnconfirmed:
            break
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
                // A cluster room's seqs live in the database: with no member here, it need not be kept.
                let unused = self.posts != nil ? state.connections.isEmpty : state.room.isDisposable
                return unused && state.joining == 0
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
