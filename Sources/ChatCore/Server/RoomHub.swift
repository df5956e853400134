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
            var connections: [String: ServerConnection] = [:]
        }

        let name: String
        let state: Mutex<State>

        init(room: Room) {
            self.name = room.name
            self.state = Mutex(State(room: room))
        }
    }

    /// The seq space of this server run.
    let epoch: String
    private let configuration: ServerConfiguration
    private let rooms = Mutex<[String: RoomBox]>([:])

    init(configuration: ServerConfiguration, epoch: String = RandomID.make(length: 12)) {
        self.configuration = configuration
        self.epoch = epoch
    }

    /// Adds `connection` to its room: queues its welcome and replay, tells the others, and returns who it is.
    func join(_ connection: ServerConnection, request: ConnectRequest) -> (user: ChatUser, box: RoomBox) {
        let userID = RandomID.make(prefix: "u-")
        let requestedName = request.name ?? RandomID.make(prefix: "guest-", length: 4)
        // The hub lock is held while joining so a room being emptied cannot be dropped under a joiner.
        return self.rooms.withLock { rooms in
            let box: RoomBox
            if let existing = rooms[request.room] {
                box = existing
            } else {
                box = RoomBox(
                    room: Room(
                        name: request.room,
                        historyLimit: self.configuration.historySize,
                        dedupWindow: self.configuration.dedupWindow
                    )
                )
                rooms[request.room] = box
            }
            let user = box.state.withLock { state in
                let user = state.room.join(id: userID, requestedName: requestedName)
                let replay = state.room.replay(
                    since: request.since,
                    epoch: request.epoch,
                    currentEpoch: self.epoch,
                    count: request.history
                )
                let welcome = Welcome(
                    room: state.room.name,
                    you: user,
                    users: state.room.members,
                    seq: state.room.lastSeq,
                    epoch: self.epoch,
                    limits: self.configuration.limits,
                    recovered: replay.recovered,
                    firstSeq: replay.firstSeq
                )
                connection.send(ServerFrame.welcome(welcome).encode())
                for frame in replay.frames { connection.send(frame) }
                let joined = ServerFrame.join(
                    PresenceEvent(room: state.room.name, user: user, ts: Timestamp.now().rfc3339)
                )
                Self.broadcast(joined.encode(), to: state.connections)
                state.connections[user.id] = connection
                return user
            }
            return (user, box)
        }
    }

    /// Posts a message: acks it to the sender (when it has an id) and broadcasts it to the room, sender included.
    /// A resent id is acknowledged again with its first seq and not broadcast twice.
    func post(in box: RoomBox, from userID: String, id: String?, text: String) {
        box.state.withLock { state in
            guard let user = state.room.members.first(where: { $0.id == userID }) else { return }
            let result = state.room.post(from: user, id: id, text: text, at: Timestamp.now())
            // The ack goes first, so the sender knows the seq of its own message when the echo arrives.
            if let id, let sender = state.connections[userID] {
                sender.send(ServerFrame.ack(Ack(id: id, seq: result.seq)).encode())
            }
            if case .posted(let stored) = result {
                Self.broadcast(stored.frame, to: state.connections)
            }
        }
    }

    /// Renames a member and tells the room, the member included.
    func rename(in box: RoomBox, userID: String, to name: String) {
        box.state.withLock { state in
            guard let (user, previousName) = state.room.rename(id: userID, to: name) else { return }
            let event = PresenceEvent(
                room: state.room.name,
                user: user,
                previousName: previousName,
                ts: Timestamp.now().rfc3339
            )
            Self.broadcast(ServerFrame.nick(event).encode(), to: state.connections)
        }
    }

    /// Removes a member, tells the others, and forgets the room when nothing is left in it.
    func leave(_ box: RoomBox, userID: String) {
        self.rooms.withLock { rooms in
            let disposable = box.state.withLock { state in
                state.connections[userID] = nil
                if let user = state.room.leave(id: userID) {
                    let event = PresenceEvent(room: state.room.name, user: user, ts: Timestamp.now().rfc3339)
                    Self.broadcast(ServerFrame.leave(event).encode(), to: state.connections)
                }
                return state.room.isDisposable
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

    private static func broadcast(_ frame: ByteBuffer, to connections: [String: ServerConnection]) {
        for connection in connections.values { connection.send(frame) }
    }
}
