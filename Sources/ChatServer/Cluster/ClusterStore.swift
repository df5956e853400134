import ChatProtocol
public import ChatTransport
public import Logging
public import NIOCore
import PostgresNIO
public import ServiceLifecycle

/// The cluster's database: every node started with the same `postgres://` URL shares its rooms, seqs,
/// history and members. The tables are the truth; notifications (`ClusterListener`) only say where to look.
///
/// - `chat_rooms(name, last_seq)`: a room's row is locked by the transaction that gives out its next seqs
///   and held through the commit, so a room's committed seqs are always a gap-free prefix.
/// - `chat_messages`: the log, unique on `(room, seq)` and on `(room, id)` — a resend to any node is found
///   under the same lock and gets the seq it already has.
/// - `chat_members`: who is in which room on which node, unique on `(room, lowercased name)`.
/// - `chat_directs`: direct messages on their way to a member on another node (`ClusterStore+Directs`).
/// - `chat_nodes`: one row per running node, with a heartbeat; each node also holds a session advisory
///   lock, which PostgreSQL frees when the node's connection drops.
public final class ClusterStore: Sendable {
    static let schemaVersion = "1"
    /// The first key of every node's advisory lock ('chat'); the second is the node's id.
    static let lockClass: Int32 = 0x6368_6174
    /// The one notification channel: `m` payloads for messages, `p` for presence.
    static let channel = "chat"
    /// How long a node whose lock is free may go without a heartbeat before its members are removed: a
    /// node whose connection to PostgreSQL dropped (PostgreSQL restarting) takes its lock again well within it.
    static let nodeGrace = "3 seconds"

    public let location: PostgresLocation
    /// The epoch of every seq in this database, made with its tables.
    public let epoch: String
    /// This node's id, unique in the database for as long as it exists.
    public let node: Int32
    let client: PostgresClient
    let logger: Logger
    let connectionConfiguration: PostgresConnection.Configuration

    private init(
        location: PostgresLocation,
        epoch: String,
        node: Int32,
        client: PostgresClient,
        connectionConfiguration: PostgresConnection.Configuration,
        logger: Logger
    ) {
        self.location = location
        self.epoch = epoch
        self.node = node
        self.client = client
        self.connectionConfiguration = connectionConfiguration
        self.logger = logger
    }

    /// Connects, refuses a database that would not make a commit durable, creates the tables if needed and
    /// registers this node. Run `pool` before the server.
    public static func open(
        _ location: PostgresLocation,
        name: String,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared
    ) async throws -> ClusterStore {
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        let failed = { (reason: String) in ChatServerError.storeFailed(path: location.description, reason: reason) }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: eventLoopGroup.next(),
                configuration: configuration,
                id: 0,
                logger: logger
            )
        } catch {
            throw failed(Self.describe(error))
        }
        do {
            try await Self.checkDurability(connection, logger: logger, failed: failed)
            let epoch = try await Self.prepareSchema(connection, logger: logger, failed: failed)
            let rows = try await connection.query(
                "INSERT INTO chat_nodes (name) VALUES (\(name)) RETURNING id",
                logger: logger
            )
            var node: Int32?
            for try await id in rows.decode(Int32.self) { node = id }
            try? await connection.close()
            guard let node else { throw failed("could not register this node") }
            var poolConfiguration = PostgresClient.Configuration(
                host: location.host,
                port: location.port,
                username: location.user,
                password: location.password,
                database: location.database,
                tls: .disable
            )
            poolConfiguration.options.connectTimeout = .seconds(5)
            // So an operator (and a test) can tell the nodes' connections apart in pg_stat_activity.
            poolConfiguration.options.additionalStartupParameters = [("application_name", "chat node \(node)")]
            poolConfiguration.options.maximumConnections = 8
            // Dead pooled connections are found by a failed query, which is retried; a short keep-alive
            // finds them sooner after PostgreSQL restarts.
            poolConfiguration.options.keepAliveBehavior = .init(frequency: .seconds(5))
            var listenerConfiguration = configuration
            listenerConfiguration.options.additionalStartupParameters = [
                ("application_name", "chat listener \(node)")
            ]
            let client = PostgresClient(
                configuration: poolConfiguration,
                eventLoopGroup: eventLoopGroup,
                backgroundLogger: logger
            )
            return ClusterStore(
                location: location,
                epoch: epoch,
                node: node,
                client: client,
                connectionConfiguration: listenerConfiguration,
                logger: logger
            )
        } catch {
            try? await connection.close()
            if let error = error as? ChatServerError { throw error }
            throw failed(Self.describe(error))
        }
    }

    /// A commit is durable only with `fsync` and `synchronous_commit` on: otherwise a crash of PostgreSQL
    /// could lose messages the cluster acknowledged, so the node refuses to start.
    private static func checkDurability(
        _ connection: PostgresConnection,
        logger: Logger,
        failed: (String) -> ChatServerError
    ) async throws {
        for setting in ["fsync", "synchronous_commit"] {
            let rows = try await connection.query(
                "SELECT setting FROM pg_settings WHERE name = \(setting)",
                logger: logger
            )
            var value = ""
            for try await text in rows.decode(String.self) { value = text }
            if value == "off" {
                throw failed(
                    "\(setting) is off, so a commit could be lost in a crash after it was acknowledged; turn it on"
                )
            }
        }
    }

    /// Creates the tables (once per database, whichever node comes first) and returns the epoch.
    private static func prepareSchema(
        _ connection: PostgresConnection,
        logger: Logger,
        failed: (String) -> ChatServerError
    ) async throws -> String {
        let epoch = RandomID.make(length: 12)
        let version = Self.schemaVersion
        let values = try await connection.withTransaction(logger: logger) { connection in
            // Two nodes starting at once would race on CREATE TABLE IF NOT EXISTS (it is not atomic).
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockClass), 0)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS chat_meta (key text PRIMARY KEY, value text NOT NULL)",
                logger: logger
            )
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS chat_rooms (name text PRIMARY KEY, last_seq bigint NOT NULL DEFAULT 0)",
                logger: logger
            )
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS chat_messages (
                    room text NOT NULL, seq bigint NOT NULL, id text NOT NULL, client_id boolean NOT NULL,
                    sender text NOT NULL, uid text NOT NULL, body text NOT NULL, ts text NOT NULL,
                    PRIMARY KEY (room, seq), UNIQUE (room, id)
                )
                """,
                logger: logger
            )
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS chat_nodes (
                    id serial PRIMARY KEY, name text NOT NULL, seen timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS chat_members (
                    uid text PRIMARY KEY, room text NOT NULL, name text NOT NULL, name_key text NOT NULL,
                    node integer NOT NULL, position bigint GENERATED ALWAYS AS IDENTITY
                )
                """,
                logger: logger
            )
            try await connection.query(
                "CREATE UNIQUE INDEX IF NOT EXISTS chat_members_name ON chat_members (room, name_key)",
                logger: logger
            )
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS chat_members_node ON chat_members (node)",
                logger: logger
            )
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS chat_directs (
                    id bigserial PRIMARY KEY, node integer NOT NULL, room text NOT NULL, uid text NOT NULL,
                    frame text NOT NULL, created timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS chat_directs_node ON chat_directs (node)",
                logger: logger
            )
            // `sinceTime` looks a room's messages up by time. The times are RFC 3339 UTC of one fixed width, so
            // they sort in time order byte by byte — under the "C" collation, not a locale's.
            try await connection.query(
                #"CREATE INDEX IF NOT EXISTS chat_messages_time ON chat_messages (room, ts COLLATE "C")"#,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO chat_meta (key, value) VALUES ('schema', \(version)), ('epoch', \(epoch))
                ON CONFLICT (key) DO NOTHING
                """,
                logger: logger
            )
            var values: [String: String] = [:]
            let rows = try await connection.query("SELECT key, value FROM chat_meta", logger: logger)
            for try await (key, value) in rows.decode((String, String).self) { values[key] = value }
            return values
        }
        guard values["schema"] == version, let stored = values["epoch"], !stored.isEmpty else {
            throw failed("not a chat database of this version (schema \(values["schema"] ?? "none"))")
        }
        return stored
    }

    /// The connection pool, to run as a service *before* the server in the same `ServiceGroup`: a group
    /// stops its services in reverse order, so the pool (which stops at graceful shutdown) is still there
    /// while the server writes what is queued and leaves the cluster.
    public var pool: some Service { self.client }

    /// Leaves the cluster on a graceful stop: this node's members go (the other nodes are told) and so
    /// does its row. If this fails, another node's sweep does the same a few seconds later.
    func deregister() async {
        do {
            let rows = try await self.client.query(
                "DELETE FROM chat_members WHERE node = \(self.node) RETURNING room, uid, name"
            )
            var notices: [String] = []
            for try await (room, uid, name) in rows.decode((String, String, String).self) {
                notices.append(try Self.leaveNotice(room: room, uid: uid, name: name, node: self.node))
            }
            await self.notify(notices)
            try await self.client.query("DELETE FROM chat_nodes WHERE id = \(self.node)")
        } catch {
            self.logger.warning(
                "could not leave the cluster cleanly; another node removes this one's members shortly",
                metadata: ["chat.error": "\(Self.describe(error))"]
            )
        }
    }

    /// `connection refused`, `password authentication failed …`: PostgreSQL's own words where it gave
    /// some (postgres-nio's error text hides them), else what failed underneath.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return describe(error.commitError ?? error.closureError ?? error.beginError ?? error.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return NetworkErrorText.describe(underlying) }
        return "\(error.code)"
    }
}
