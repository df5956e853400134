import ChatProtocol
import Logging
import PostgresNIO

extension ClusterStore {
    /// How often a join or rename retries when another node took the name it chose meanwhile.
    private static let claimAttempts = 20

    /// Adds a member to `room` under `requestedName`, or `name-2`, … when someone on any node has it, and
    /// tells the other nodes.
    func claim(room: RoomName, uid: UserID, requestedName: String) async throws -> ChatUser {
        for attempt in 0..<Self.claimAttempts {
            // The name asked for is tried as it is first: one statement, however many are in the room.
            // Only when it is taken are the room's names read, to choose the suffix.
            let name: String
            if attempt == 0 {
                name = requestedName
            } else {
                let taken = try await self.nameKeys(in: room, except: nil)
                name = UserName.unique(requestedName, isTaken: taken.contains)
            }
            let rows = try await self.client.query(
                """
                INSERT INTO chat_members (uid, room, name, name_key, node)
                VALUES (\(uid.rawValue), \(room.rawValue), \(name), \(name.lowercased()), \(self.node))
                ON CONFLICT DO NOTHING RETURNING uid
                """
            )
            var inserted = false
            for try await _ in rows.decode(String.self) { inserted = true }
            guard inserted else { continue }
            let user = ChatUser(id: uid, name: name)
            await self.notify([ClusterNotice.join(room: room, node: self.node, user: user).payload])
            return user
        }
        throw ChatServerError.storeFailed(path: self.location.description, reason: "could not claim a name in \(room)")
    }

    /// Renames member `uid` of `room` (made unique across the cluster) and tells the other nodes; nil when
    /// it is not a member or the name is unchanged.
    func rename(
        room: RoomName,
        uid: UserID,
        from previousName: String,
        to requestedName: String
    ) async throws
        -> ChatUser?
    {
        guard requestedName != previousName else { return nil }
        for _ in 0..<Self.claimAttempts {
            let taken = try await self.nameKeys(in: room, except: uid)
            let name = UserName.unique(requestedName, isTaken: taken.contains)
            let rows: PostgresRowSequence
            do {
                rows = try await self.client.query(
                    "UPDATE chat_members SET name = \(name), name_key = \(name.lowercased()) WHERE uid = \(uid.rawValue) RETURNING uid"
                )
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                continue  // Someone took that name between the read and the update: choose again.
            }
            var updated = false
            for try await _ in rows.decode(String.self) { updated = true }
            guard updated else { return nil }
            let user = ChatUser(id: uid, name: name)
            await self.notify(
                [ClusterNotice.nick(room: room, node: self.node, user: user, previousName: previousName).payload]
            )
            return user
        }
        throw ChatServerError.storeFailed(path: self.location.description, reason: "could not claim a name in \(room)")
    }

    /// Removes member `uid` and tells the other nodes.
    func release(uid: UserID) async throws {
        let rows = try await self.client.query(
            "DELETE FROM chat_members WHERE uid = \(uid.rawValue) RETURNING room, name"
        )
        var notices: [String] = []
        for try await (room, name) in rows.decode((String, String).self) {
            notices.append(try Self.leaveNotice(room: room, uid: uid.rawValue, name: name, node: self.node))
        }
        await self.notify(notices)
    }

    /// Everyone in `room` on every node, in order of joining.
    func roster(of room: RoomName) async throws -> [ChatUser] {
        var users: [ChatUser] = []
        let rows = try await self.client.query(
            "SELECT uid, name FROM chat_members WHERE room = \(room.rawValue) ORDER BY position"
        )
        for try await (uid, name) in rows.decode((String, String).self) {
            users.append(ChatUser(id: UserID(uid), name: name))
        }
        return users
    }

    /// Puts this node's members back after an outage: those the table lost (the node was swept) are added
    /// again where their names are still free, and those it still lists but the node no longer has (their
    /// leave could not be written meanwhile) are removed. The other nodes are told either way.
    func reassert(_ members: [(room: RoomName, user: ChatUser)]) async throws {
        let rows = try await self.client.query("SELECT uid, room, name FROM chat_members WHERE node = \(self.node)")
        var listed: [UserID: (room: RoomName, name: String)] = [:]
        for try await (uid, room, name) in rows.decode((String, String, String).self) {
            listed[UserID(uid)] = (try RoomName(stored: room), name)
        }
        let present = Set(members.map(\.user.id))
        var notices: [String] = []
        for (uid, entry) in listed where !present.contains(uid) {
            try await self.client.query("DELETE FROM chat_members WHERE uid = \(uid.rawValue)")
            notices.append(
                ClusterNotice.leave(room: entry.room, node: self.node, user: ChatUser(id: uid, name: entry.name))
                    .payload
            )
        }
        for member in members where listed[member.user.id] == nil {
            let inserted = try await self.client.query(
                """
                INSERT INTO chat_members (uid, room, name, name_key, node)
                VALUES (\(member.user.id.rawValue), \(member.room.rawValue), \(member.user.name), \(member.user.name.lowercased()),
                        \(self.node))
                ON CONFLICT DO NOTHING RETURNING uid
                """
            )
            var added = false
            for try await _ in inserted.decode(String.self) { added = true }
            if added {
                notices.append(ClusterNotice.join(room: member.room, node: self.node, user: member.user).payload)
            } else {
                self.logger.warning(
                    "a member's name was taken on another node while this node was away",
                    metadata: ["chat.room": "\(member.room)", "chat.user": "\(member.user.name)"]
                )
            }
        }
        await self.notify(notices)
    }

    /// Keeps this node alive in the table (`seen`), adding its row back if a sweep removed it.
    func heartbeat(on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO chat_nodes (id, name) VALUES (\(self.node), 'rejoined') ON CONFLICT (id) DO UPDATE SET seen = now()
            """,
            logger: self.logger
        )
    }

    /// Removes the nodes that are gone — their lock is free and their heartbeat older than the grace — with
    /// their members, and tells the others that those members left. Any node may sweep; each dead member is
    /// removed (and announced) by exactly one, because the DELETE decides.
    func sweep(on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            WITH dead AS (
                DELETE FROM chat_nodes n
                WHERE n.seen < now() - interval '\(unescaped: Self.nodeGrace)' AND NOT EXISTS (
                    SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid = \(unescaped: String(Self.lockClass))::oid AND l.objid = n.id::oid
                )
                RETURNING n.id
            )
            DELETE FROM chat_members m USING dead WHERE m.node = dead.id RETURNING m.room, m.uid, m.name, m.node
            """,
            logger: self.logger
        )
        var notices: [String] = []
        for try await (room, uid, name, node) in rows.decode((String, String, String, Int32).self) {
            notices.append(try Self.leaveNotice(room: room, uid: uid, name: name, node: node))
        }
        if !notices.isEmpty {
            self.logger.notice(
                "removed the members of a node that is gone",
                metadata: ["chat.members": "\(notices.count)"]
            )
        }
        await self.notify(notices)
    }

    /// Takes this node's advisory lock on `connection`: held for as long as that connection lives.
    func lock(on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_lock(\(Self.lockClass), \(self.node))", logger: self.logger)
    }

    /// The leave notice for a member row just deleted.
    static func leaveNotice(room: String, uid: String, name: String, node: Int32) throws(ChatServerError) -> String {
        let user = ChatUser(id: UserID(uid), name: name)
        return ClusterNotice.leave(room: try RoomName(stored: room), node: node, user: user).payload
    }

    private func nameKeys(in room: RoomName, except uid: UserID?) async throws -> Set<String> {
        var keys: Set<String> = []
        let rows = try await self.client.query(
            "SELECT name_key FROM chat_members WHERE room = \(room.rawValue) AND uid <> \(uid?.rawValue ?? "")"
        )
        for try await key in rows.decode(String.self) { keys.insert(key) }
        return keys
    }
}
