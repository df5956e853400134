import ChatProtocol
import NIOCore
import PostgresNIO

/// `chat_directs(id, node, room, uid, frame, created)`: direct messages on their way to a member on
/// another node, each row taken (deleted) by the addressee's node as it delivers it. Rows nobody takes —
/// the node died before it could — go after `directLifetime`.
extension ClusterStore {
    static let directLifetime = "1 minute"

    /// Writes `directs` for their addressees' nodes, in order, and rings each of those nodes. Returns the
    /// addressees who were found (a member that left meanwhile has no node to go to).
    func write(directs: [ClusterDirects.Outgoing]) async throws -> Set<UserID> {
        let uids = directs.map(\.direct.toUid.rawValue)
        let rooms = directs.map(\.direct.room.rawValue)
        let frames = directs.map { String(buffer: $0.frame) }
        let rows = try await self.client.query(
            """
            INSERT INTO chat_directs (node, room, uid, frame)
            SELECT m.node, d.room, d.uid, d.frame
            FROM unnest(\(uids)::text[], \(rooms)::text[], \(frames)::text[]) WITH ORDINALITY AS d(uid, room, frame, n)
            JOIN chat_members m ON m.uid = d.uid AND m.room = d.room
            ORDER BY d.n
            RETURNING uid, node
            """,
            logger: self.logger
        )
        var found = Set<UserID>()
        var nodes = Set<Int32>()
        for try await (uid, node) in rows.decode((String, Int32).self) {
            found.insert(UserID(uid))
            nodes.insert(node)
        }
        await self.notify(nodes.sorted().map { ClusterNotice.direct(toNode: $0, node: self.node).payload })
        return found
    }

    /// Takes the direct messages waiting for this node's members, oldest first.
    func takeDirects() async throws -> [(room: RoomName, uid: UserID, frame: String)] {
        let rows = try await self.client.query(
            "DELETE FROM chat_directs WHERE node = \(self.node) RETURNING id, room, uid, frame",
            logger: self.logger
        )
        var taken: [(id: Int64, room: RoomName, uid: UserID, frame: String)] = []
        for try await (id, room, uid, frame) in rows.decode((Int64, String, String, String).self) {
            guard let room = RoomName(room) else { continue }
            taken.append((id, room, UserID(uid), frame))
        }
        return taken.sorted { $0.id < $1.id }.map { ($0.room, $0.uid, $0.frame) }
    }

    /// Drops direct messages no node took in time (their node is gone).
    func sweepDirects(on connection: PostgresConnection) async throws {
        try await connection.query(
            "DELETE FROM chat_directs WHERE created < now() - interval '\(unescaped: Self.directLifetime)'",
            logger: self.logger
        )
    }
}
