import ChatProtocol
import NIOCore
import Synchronization

/// What a node does to its rooms when the cluster's database speaks: rooms loaded on first use, messages
/// delivered in seq order once committed, members of other nodes coming and going.
extension RoomHub {
    /// A room as the database has it, for a node that has no member in it yet.
    struct LoadedRoom: Sendable {
        var name: RoomName
        var lastSeq: UInt64
        var messages: [ChatMessage]
        var members: [ChatUser]
    }

    /// The room `name` if this node has it, held for a client on its way in (`join(…, claimed:)` or
    /// `cancelJoin` ends the hold).
    func reserve(_ name: RoomName) -> RoomBox? {
        self.rooms.withLock { rooms in
            guard let box = rooms[name] else { return nil }
            box.state.withLock { $0.joining += 1 }
            return box
        }
    }

    /// Installs a room loaded from the database — unless another joiner installed it meanwhile — and
    /// holds it like `reserve`.
    func install(_ loaded: LoadedRoom) -> RoomBox {
        self.rooms.withLock { rooms in
            let box: RoomBox
            if let existing = rooms[loaded.name] {
                box = existing
            } else {
                var room = self.makeRoom(loaded.name)
                room.restore(
                    lastSeq: loaded.lastSeq,
                    messages: loaded.messages.map { PersistedMessage(message: $0, clientID: false) }
                )
                for member in loaded.members { room.admit(member) }
                box = RoomBox(room: room)
                rooms[loaded.name] = box
            }
            box.state.withLock { $0.joining += 1 }
            return box
        }
    }

    /// A client that reserved `box` will not join after all.
    func cancelJoin(_ box: RoomBox) {
        self.rooms.withLock { rooms in
            let unused = box.state.withLock { state in
                state.joining -= 1
                return state.connections.isEmpty && state.joining == 0
            }
            if unused, rooms[box.name] === box { rooms[box.name] = nil }
        }
    }

    /// The rooms this node has, with the last seq each delivered.
    var deliveredSeqs: [RoomName: UInt64] {
        let boxes = self.rooms.withLock { Array($0.values) }
        return Dictionary(
            boxes.map { box in (box.name, box.state.withLock { $0.room.confirmedSeq }) },
            uniquingKeysWith: max
        )
    }

    /// The last seq room `name` delivered; nil when this node does not have the room.
    func deliveredSeq(_ name: RoomName) -> UInt64? {
        self.rooms.withLock { $0[name] }?.state.withLock { $0.room.confirmedSeq }
    }

    /// Delivers committed messages of room `name` to its members here — those that come next in seq order,
    /// skipping any it has, stopping at a gap — and returns the last seq it has delivered (nil when this
    /// node does not have the room).
    @discardableResult
    func deliver(_ messages: [ChatMessage], in name: RoomName) -> UInt64? {
        guard let box = self.rooms.withLock({ $0[name] }) else { return nil }
        return box.state.withLock { state in
            for message in messages {
                if let stored = state.room.deliver(message) { self.broadcastMessage(stored.frame, in: state) }
            }
            return state.room.confirmedSeq
        }
    }

    /// Acks the posts of a committed batch to their senders on this node, with the seqs PostgreSQL gave.
    func acknowledge(_ posts: [ClusterPost], _ write: ClusterWrite) {
        var boxes: [RoomName: RoomBox] = [:]
        self.rooms.withLock { rooms in
            for post in posts where post.clientID { boxes[post.room] = rooms[post.room] }
        }
        for (index, post) in posts.enumerated() where post.clientID {
            guard let box = boxes[post.room] else { continue }
            let connection = box.state.withLock { $0.connections[post.uid] }
            self.ack(id: post.id, seq: write.seqs[index], to: connection)
        }
    }

    /// Applies what another node said about its members (joins, leaves, renames) to this node's copy of
    /// the room, and tells the members here as if it happened here.
    func apply(_ notice: ClusterNotice) {
        let name: RoomName
        switch notice {
        case .message, .direct: return
        case .join(let room, _, _), .leave(let room, _, _), .nick(let room, _, _, _), .typing(let room, _, _):
            name = room
        }
        guard let box = self.rooms.withLock({ $0[name] }) else { return }
        box.state.withLock { state in
            let ts = Timestamp.now()
            switch notice {
            case .message, .direct:
                return
            case .typing(_, _, let user):
                guard !self.isLarge(memberCount: state.room.members.count) else { return }
                state.announceTyping(of: user, except: nil)
            case .join(_, _, let user):
                guard state.connections[user.id] == nil, !state.room.members.contains(where: { $0.id == user.id })
                else { return }
                state.room.admit(user)
                if !self.isLarge(memberCount: state.room.members.count) {
                    state.broadcast(ServerFrame.join(PresenceEvent(room: name, user: user, ts: ts)).encode())
                }
            case .leave(_, _, let user):
                // A member connected here is here, whatever a sweep by another node concluded.
                guard state.connections[user.id] == nil else { return }
                let announce = !self.isLarge(memberCount: state.room.members.count)
                guard let left = state.room.leave(id: user.id), announce else { return }
                state.broadcast(ServerFrame.leave(PresenceEvent(room: name, user: left, ts: ts)).encode())
            case .nick(_, _, let user, _):
                self.applyRename(user, in: &state)
            }
        }
    }

    /// Gives a member the name the cluster chose (for a rename on this node or another) and tells the room.
    func rename(in box: RoomBox, to user: ChatUser) {
        box.state.withLock { self.applyRename(user, in: &$0) }
    }

    private func applyRename(_ user: ChatUser, in state: inout RoomBox.State) {
        guard let previousName = state.room.rename(id: user.id, toExactly: user.name) else { return }
        state.announceRename(of: user, from: previousName)
    }

    /// Makes room `name`'s members of other nodes those of `roster` (the database's, after notices may have
    /// been missed), announcing the difference.
    func reconcile(_ name: RoomName, roster: [ChatUser]) {
        guard let box = self.rooms.withLock({ $0[name] }) else { return }
        let members = box.state.withLock { state in
            state.room.members.filter { state.connections[$0.id] == nil }
        }
        let listed = Dictionary(roster.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let current = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for user in members where listed[user.id] == nil {
            self.apply(.leave(room: name, node: 0, user: user))
        }
        for user in roster where box.state.withLock({ $0.connections[user.id] == nil }) {
            if let known = current[user.id] {
                if known.name != user.name {
                    self.apply(.nick(room: name, node: 0, user: user, previousName: known.name))
                }
            } else {
                self.apply(.join(room: name, node: 0, user: user))
            }
        }
    }

    /// Hands a direct message another node wrote to member `uid` here, if it is still connected.
    func deliverDirect(_ frame: ByteBuffer, to uid: UserID, in room: RoomName) {
        guard let box = self.rooms.withLock({ $0[room] }) else { return }
        box.state.withLock { $0.connections[uid] }?.send(frame)
    }

    /// Every member connected to this node, with its room (for `ClusterStore.reassert`).
    var localMembers: [(room: RoomName, user: ChatUser)] {
        let boxes = self.rooms.withLock { Array($0.values) }
        return boxes.flatMap { box in
            box.state.withLock { state in
                state.room.members.filter { state.connections[$0.id] != nil }.map { (box.name, $0) }
            }
        }
    }
}
