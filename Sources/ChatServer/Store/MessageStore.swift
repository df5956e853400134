import ChatProtocol
public import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Durable history in one SQLite file (`chat serve --store PATH`): every room's messages with their seq,
/// and the epoch their seqs belong to, so history, seqs and de-duplication survive a restart.
///
/// The file is in WAL mode with `synchronous=FULL`, so a write has reached the disk when it returns — the
/// server acknowledges a message only after that. One server owns the file: it is locked exclusively, and
/// a second `chat serve` on it fails at start instead of interleaving seqs.
public final class MessageStore: Sendable {
    /// Rows per INSERT statement: 8 values each, well under SQLite's bound-variable limit.
    private static let rowsPerStatement = 500
    private static let schemaVersion = "1"
    /// How long opening waits for another process to release the file.
    private static let lockWait = Duration.seconds(2)

    /// The file, as given.
    public let path: String
    /// The epoch of this store's seqs, made when the file was created and kept for its life.
    public let epoch: String
    private let connection: SQLiteConnection

    private init(path: String, epoch: String, connection: SQLiteConnection) {
        self.path = path
        self.epoch = epoch
        self.connection = connection
    }

    /// Opens (creating if needed) the store at `path` and takes its lock.
    public static func open(path: String, logger: Logger) async throws -> MessageStore {
        createPrivately(path)
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw ChatServerError.storeFailed(path: path, reason: Self.describe(error))
        }
        do {
            // sqlite-nio's busy handler waits forever for a lock; a store in use should fail instead, after a
            // grace period for a previous server that is still exiting.
            _ = try await connection.query("PRAGMA busy_timeout = \(Int(Self.lockWait.inSeconds * 1000))")
            // The lock is taken by the first write below and held until the connection closes.
            _ = try await connection.query("PRAGMA locking_mode = EXCLUSIVE")
            _ = try await connection.query("PRAGMA journal_mode = WAL")
            _ = try await connection.query("PRAGMA synchronous = FULL")
            _ = try await connection.query(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
            )
            _ = try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS messages (
                    room TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, client_id INTEGER NOT NULL,
                    sender TEXT NOT NULL, uid TEXT NOT NULL, text TEXT NOT NULL, ts TEXT NOT NULL,
                    PRIMARY KEY (room, seq)
                ) WITHOUT ROWID
                """
            )
            // `sinceTime` looks a room's messages up by time. The times are RFC 3339 UTC of one fixed width, so
            // they sort as text in time order.
            _ = try await connection.query("CREATE INDEX IF NOT EXISTS messages_time ON messages (room, ts)")
            _ = try await connection.query(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?), ('epoch', ?)",
                [.text(Self.schemaVersion), .text(RandomID.make(length: 12))]
            )
            let meta = try await connection.query("SELECT key, value FROM meta")
            let values = Dictionary(
                meta.compactMap { row in row.column("key")?.string.map { ($0, row.column("value")?.string ?? "") } },
                uniquingKeysWith: { first, _ in first }
            )
            guard values["schema"] == Self.schemaVersion, let epoch = values["epoch"], !epoch.isEmpty else {
                throw ChatServerError.storeFailed(
                    path: path,
                    reason: "not a chat store of this version (schema \(values["schema"] ?? "none"))"
                )
            }
            return MessageStore(path: path, epoch: epoch, connection: connection)
        } catch {
            try? await connection.close()
            if error is ChatServerError { throw error }
            throw ChatServerError.storeFailed(path: path, reason: Self.describe(error))
        }
    }

    /// Reads every room's last seq and its newest `limit` messages.
    func load(newest limit: Int) async throws -> [StoredRoom] {
        do {
            var rooms: [StoredRoom] = []
            for row in try await self.connection.query("SELECT room, MAX(seq) AS last FROM messages GROUP BY room") {
                guard let name = row.column("room")?.string.flatMap(RoomName.init(rawValue:)),
                    let last = row.column("last")?.integer
                else { continue }
                let rows = try await self.connection.query(
                    "SELECT seq, id, client_id, sender, uid, text, ts FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?",
                    [.text(name.rawValue), .integer(max(0, limit))]
                )
                let messages = rows.reversed().compactMap { Self.message(from: $0, room: name) }
                rooms.append(StoredRoom(name: name, lastSeq: UInt64(last), messages: messages))
            }
            return rooms
        } catch {
            throw ChatServerError.storeFailed(path: self.path, reason: Self.describe(error))
        }
    }

    /// Reads back `room`'s messages with seqs in `seqs`, oldest first, stopping before their frames would
    /// pass `maxBytes` (a resume is sent in one go, so it must fit the client's outbound queue).
    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage] {
        var result: [Room.StoredMessage] = []
        var bytes = 0
        let pageSize = 1000
        var after = seqs.lowerBound - 1
        while after < seqs.upperBound {
            let rows = try await self.connection.query(
                """
                SELECT seq, id, client_id, sender, uid, text, ts FROM messages
                WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?
                """,
                [
                    .text(room.rawValue), .integer(SQLiteInt64(after)), .integer(SQLiteInt64(seqs.upperBound)),
                    .integer(pageSize),
                ]
            )
            for row in rows {
                guard let persisted = Self.message(from: row, room: room) else { continue }
                let frame = ServerFrame.message(persisted.message).encode()
                bytes += frame.readableBytes
                guard bytes <= maxBytes else { return result }
                result.append(Room.StoredMessage(message: persisted.message, frame: frame))
                after = persisted.message.seq
            }
            if rows.count < pageSize { break }
        }
        return result
    }

    /// The seq of `room`'s first message posted at or after `time`; nil when there is none.
    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64? {
        let rows = try await self.connection.query(
            "SELECT seq FROM messages WHERE room = ? AND ts >= ? ORDER BY ts LIMIT 1",
            [.text(room.rawValue), .text(time.rfc3339)]
        )
        return rows.first?.column("seq")?.integer.map { UInt64($0) }
    }

    /// Writes `messages` in one transaction; when it returns they are on disk.
    func append(_ messages: [PersistedMessage]) async throws {
        guard !messages.isEmpty else { return }
        _ = try await self.connection.query("BEGIN IMMEDIATE")
        do {
            var start = messages.startIndex
            while start < messages.endIndex {
                let chunk = messages[start..<min(start + Self.rowsPerStatement, messages.endIndex)]
                let placeholders = repeatElement("(?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                var binds: [SQLiteData] = []
                binds.reserveCapacity(chunk.count * 8)
                for persisted in chunk {
                    let message = persisted.message
                    binds += [
                        .text(message.room.rawValue), .integer(SQLiteInt64(message.seq)), .text(message.id.rawValue),
                        .integer(persisted.clientID ? 1 : 0), .text(message.from), .text(message.uid.rawValue),
                        .text(message.text), .text(message.ts.rfc3339),
                    ]
                }
                _ = try await self.connection.query(
                    "INSERT INTO messages (room, seq, id, client_id, sender, uid, text, ts) VALUES \(placeholders)",
                    binds
                )
                start = chunk.endIndex
            }
            _ = try await self.connection.query("COMMIT")
        } catch {
            _ = try? await self.connection.query("ROLLBACK")
            throw error
        }
    }

    /// Closes the file (and releases its lock).
    public func close() async {
        try? await self.connection.close()
    }

    /// A row as the message it holds; nil for one that cannot be read (it is skipped, as if not there).
    private static func message(from row: SQLiteRow, room: RoomName) -> PersistedMessage? {
        guard let seq = row.column("seq")?.integer, let id = row.column("id")?.string,
            let from = row.column("sender")?.string, let uid = row.column("uid")?.string,
            let text = row.column("text")?.string, let ts = row.column("ts")?.string
        else { return nil }
        guard
            let message = try? ChatMessage(
                room: room,
                seq: Int64(seq),
                id: id,
                from: from,
                uid: uid,
                text: text,
                storedTimestamp: ts
            )
        else { return nil }
        return PersistedMessage(message: message, clientID: row.column("client_id")?.integer == 1)
    }

    /// `database is locked (another chat serve may be using it)`: SQLite's own words, plus the likely cause.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? SQLiteError else { return "\(error)" }
        switch error.reason {
        case .busy, .locked: return "\(error.message) (is another chat serve using it?)"
        default: return error.message
        }
    }
}

/// Chat history is private: a new store file (and the journal files SQLite derives from it) is made 0600.
/// An existing file keeps its mode; a failure here surfaces when SQLite opens the path.
private func createPrivately(_ path: String) {
    let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    if descriptor >= 0 { _ = close(descriptor) }
}
