import ChatProtocol
import NIOCore
import Synchronization

extension RoomHub {
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
}
