import ChatProtocol
import Logging
import PostgresNIO

extension ClusterStore {
    /// Gives `posts` their seqs and stores them in one transaction; when it returns they are committed.
    ///
    /// Each room's row is locked first (rooms in sorted order, so two nodes never deadlock), then the ids
    /// already stored are looked up under that lock: a resend — to this node or any other, or a retry of
    /// a batch whose commit was lost with its connection — gets the seq it has and is not stored twice.
    func write(_ posts: [ClusterPost]) async throws -> ClusterWrite {
        let byRoom = Dictionary(grouping: posts.indices, by: { posts[$0].room })
        let logger = self.logger
        let result = try await self.client.withTransaction(logger: logger) { connection in
            var seqs = [UInt64](repeating: 0, count: posts.count)
            var added: [RoomName: [ChatMessage]] = [:]
            var lastSeqs: [RoomName: UInt64] = [:]
            for room in byRoom.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                let indices = byRoom[room] ?? []
                var last: Int64 = 0
                for try await value in try await connection.query(
                    """
                    INSERT INTO chat_rooms (name) VALUES (\(room.rawValue))
                    ON CONFLICT (name) DO UPDATE SET last_seq = chat_rooms.last_seq RETURNING last_seq
                    """,
                    logger: logger
                ).decode(Int64.self) { last = value }
                var known: [MessageID: Int64] = [:]
                let ids = indices.map { posts[$0].id.rawValue }
                for try await (id, seq) in try await connection.query(
                    "SELECT id, seq FROM chat_messages WHERE room = \(room.rawValue) AND id = ANY(\(ids))",
                    logger: logger
                ).decode((String, Int64).self) { known[MessageID(id)] = seq }
                var rows: [ChatMessage] = []
                var clientIDs: [Bool] = []
                for index in indices {
                    let post = posts[index]
                    if let seq = known[post.id] {
                        seqs[index] = UInt64(seq)
                        continue
                    }
                    last += 1
                    known[post.id] = last
                    seqs[index] = UInt64(last)
                    clientIDs.append(post.clientID)
                    rows.append(
                        ChatMessage(
                            room: room,
                            seq: UInt64(last),
                            id: post.id,
                            from: post.from,
                            uid: post.uid,
                            text: post.text,
                            ts: post.ts
                        )
                    )
                }
                lastSeqs[room] = UInt64(last)
                guard !rows.isEmpty else { continue }
                try await connection.query(
                    """
                    INSERT INTO chat_messages (room, seq, id, client_id, sender, uid, body, ts)
                    SELECT \(room.rawValue), * FROM unnest(
                        \(rows.map { Int64($0.seq) })::bigint[], \(rows.map(\.id.rawValue))::text[],
                        \(clientIDs)::boolean[],
                        \(rows.map(\.from))::text[], \(rows.map(\.uid.rawValue))::text[],
                        \(rows.map(\.text))::text[], \(rows.map(\.ts.rfc3339))::text[]
                    )
                    """,
                    logger: logger
                )
                try await connection.query(
                    "UPDATE chat_rooms SET last_seq = \(last) WHERE name = \(room.rawValue)",
                    logger: logger
                )
                added[room] = rows
            }
            return ClusterWrite(seqs: seqs, added: added, lastSeqs: lastSeqs)
        }
        // The doorbell rings after the commit, in its own statement: a NOTIFY inside the transaction would
        // serialise every node's commits through PostgreSQL's one notify lock.
        let payloads = result.added.compactMap { room, rows in
            rows.last.map { ClusterNotice.message(room: room, lastSeq: $0.seq, node: self.node).payload }
        }
        await self.notify(payloads)
        return result
    }

    /// Sends notifications; a failure is only logged, because the listeners' poll finds what it missed.
    func notify(_ payloads: [String]) async {
        guard !payloads.isEmpty else { return }
        do {
            try await self.client.query(
                "SELECT pg_notify(\(Self.channel), payload) FROM unnest(\(payloads)::text[]) AS payload"
            )
        } catch {
            self.logger.warning(
                "cannot notify the other nodes; they will find the change by polling",
                metadata: ["chat.store": "\(self.location)", "chat.error": "\(Self.describe(error))"]
            )
        }
    }

    /// `room`'s committed messages after `after`, oldest first, at most `limit`.
    func messages(room: RoomName, after: UInt64, limit: Int) async throws -> [ChatMessage] {
        let rows = try await self.client.query(
            """
            SELECT seq, id, sender, uid, body, ts FROM chat_messages
            WHERE room = \(room.rawValue) AND seq > \(Int64(after)) ORDER BY seq LIMIT \(limit)
            """
        )
        var messages: [ChatMessage] = []
        for try await (seq, id, from, uid, text, ts) in rows.decode(
            (Int64, String, String, String, String, String).self
        ) {
            messages.append(
                try ChatMessage(room: room, seq: seq, id: id, from: from, uid: uid, text: text, storedTimestamp: ts)
            )
        }
        return messages
    }

    /// `room`'s last committed seq and its newest `limit` messages, oldest first.
    func load(room: RoomName, newest limit: Int) async throws -> (lastSeq: UInt64, messages: [ChatMessage]) {
        let rows = try await self.client.query(
            """
            SELECT seq, id, sender, uid, body, ts FROM chat_messages
            WHERE room = \(room.rawValue) ORDER BY seq DESC LIMIT \(max(1, limit))
            """
        )
        var messages: [ChatMessage] = []
        for try await (seq, id, from, uid, text, ts) in rows.decode(
            (Int64, String, String, String, String, String).self
        ) {
            messages.append(
                try ChatMessage(room: room, seq: seq, id: id, from: from, uid: uid, text: text, storedTimestamp: ts)
            )
        }
        messages.reverse()
        let lastSeq = messages.last?.seq ?? 0
        return (lastSeq, limit > 0 ? messages : [])
    }

    /// Reads back `room`'s messages with seqs in `seqs` for a resume, within `maxBytes` of frames.
    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage] {
        var result: [Room.StoredMessage] = []
        var bytes = 0
        var after = seqs.lowerBound - 1
        while after < seqs.upperBound {
            let page = try await self.messages(room: room, after: after, limit: 1000)
            for message in page where message.seq <= seqs.upperBound {
                let frame = ServerFrame.message(message).encode()
                bytes += frame.readableBytes
                guard bytes <= maxBytes else { return result }
                result.append(Room.StoredMessage(message: message, frame: frame))
                after = message.seq
            }
            if page.count < 1000 || (page.last?.seq ?? 0) >= seqs.upperBound { break }
        }
        return result
    }

    /// The seq of `room`'s first committed message posted at or after `time`; nil when there is none.
    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64? {
        let rows = try await self.client.query(
            """
            SELECT seq FROM chat_messages WHERE room = \(room.rawValue) AND ts COLLATE "C" >= \(time.rfc3339)
            ORDER BY ts COLLATE "C" LIMIT 1
            """
        )
        for try await seq in rows.decode(Int64.self) { return UInt64(seq) }
        return nil
    }

    /// `GET /rooms` for a cluster: the rooms with messages or members on any node, by name — one more than
    /// `RoomList.limit`, so the list can say it was cut.
    func roomList() async throws -> RoomList {
        let rows = try await self.client.query(
            """
            SELECT name, last_seq, members, ts FROM (
                SELECT r.name, r.last_seq, coalesce(m.members, 0) AS members, t.ts
                FROM chat_rooms r
                LEFT JOIN (SELECT room, count(*) AS members FROM chat_members GROUP BY room) m ON m.room = r.name
                LEFT JOIN chat_messages t ON t.room = r.name AND t.seq = r.last_seq
                UNION ALL
                SELECT room, 0, count(*), NULL FROM chat_members
                WHERE room NOT IN (SELECT name FROM chat_rooms) GROUP BY room
            ) rooms ORDER BY name COLLATE "C" LIMIT \(RoomList.limit + 1)
            """
        )
        var rooms: [RoomList.Room] = []
        for try await (name, lastSeq, members, ts) in rows.decode((String, Int64, Int64, String?).self) {
            guard let room = RoomName(name) else { continue }
            rooms.append(
                RoomList.Room(
                    name: room,
                    members: Int(members),
                    lastSeq: UInt64(lastSeq),
                    lastActivity: ts.flatMap(Timestamp.init(rfc3339:))
                )
            )
        }
        return RoomList(rooms)
    }

    /// The last committed seq of each of `rooms` that has any.
    func lastSeqs(of rooms: [RoomName]) async throws -> [RoomName: UInt64] {
        guard !rooms.isEmpty else { return [:] }
        var result: [RoomName: UInt64] = [:]
        let names = rooms.map(\.rawValue)
        let rows = try await self.client.query("SELECT name, last_seq FROM chat_rooms WHERE name = ANY(\(names))")
        for try await (name, seq) in rows.decode((String, Int64).self) {
            if let room = RoomName(name) { result[room] = UInt64(seq) }
        }
        return result
    }
}
