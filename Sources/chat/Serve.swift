import ArgumentParser
import ChatProtocol
import ChatTerminal
import ChatServer
import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `chat serve`: run the server until SIGINT/SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a chat server.",
        discussion: """
            Prints 'listening on ws://HOST:PORT/ws' on stdout once bound (the only line it prints there); \
            logs go to stderr. SIGINT or SIGTERM closes every client with 1001 and exits 0.
            """
    )

    /// Where every default comes from: the configuration's own, which argument-parser prints.
    private static let defaults = ServerConfiguration()

    @Option(help: "The address to listen on.")
    var host = Self.defaults.host

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port = Self.defaults.port

    @Option(help: "Messages each room keeps for replay.")
    var history = Self.defaults.historySize

    @Option(
        help: ArgumentHelp(
            "Keep every room's messages in this SQLite file, so history and seqs survive a restart; a message is acknowledged only once it is on disk. A postgres://USER[:PASSWORD]@HOST[:PORT]/DB URL makes this server one node of the cluster of every server given that URL (default: $CHAT_STORE, else in memory).",
            valueName: "path|url"
        )
    )
    var store: String?

    @Option(
        help: ArgumentHelp(
            "Serve wss:// and https:// with this PEM certificate (chain); needs --tls-key.",
            valueName: "pem"
        )
    )
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "pem"))
    var tlsKey: String?

    @Option(
        help: ArgumentHelp(
            "Require this token (the file's first line) on every WebSocket upgrade (default: $CHAT_SERVER_TOKEN, else none).",
            valueName: "file"
        )
    )
    var tokenFile: String?

    @Option(
        help: ArgumentHelp(
            "Also accept browser pages from this origin (repeatable; '*' for any). The server's own origin is always accepted.",
            valueName: "origin"
        )
    )
    var allowOrigin: [String] = []

    @Option(
        help: ArgumentHelp(
            "Also serve a raw WebSocket echo endpoint at this path (e.g. /echo), for conformance testing (default: off).",
            valueName: "path"
        )
    )
    var echoPath: String?

    @Option(help: "The largest message text accepted, in bytes.")
    var maxMessageBytes = Self.defaults.maxMessageBytes

    @Option(help: "Messages a second each connection may send on average; 0 turns the limit off.")
    var rateLimit = Self.defaults.rateLimit

    @Option(help: "Messages a connection may send at once above the average.")
    var burst = Self.defaults.burst

    @Option(help: "The most connections served at once; more are answered 503.")
    var maxConnections = Self.defaults.maxConnections

    @Option(
        name: .customLong("max-connections-per-ip"),
        help: "The most connections from one IP address; more are answered 429; 0 for no limit."
    )
    var maxConnectionsPerAddress = Self.defaults.maxConnectionsPerAddress

    @Option(
        help: ArgumentHelp(
            "What one client's unsent messages may hold (K, M, G suffixes); past it the room waits for the client to catch up, and closes it with 1008 if it stops reading.",
            valueName: "bytes"
        )
    )
    var maxClientBacklog = ByteCount(bytes: Self.defaults.maxClientBacklog)

    @Option(
        help: ArgumentHelp(
            "What all clients' unsent messages may hold together; past it the largest backlogs of clients that stopped reading are closed first with 1008.",
            valueName: "bytes"
        )
    )
    var maxTotalBacklog = ByteCount(bytes: Self.defaults.maxTotalBacklog)

    @Option(
        help:
            "Seconds a client may leave its socket unread (writes to it stalled), or stay past --max-client-backlog, before it is closed with 1008."
    )
    var slowConsumerTimeout = Self.defaults.slowConsumerTimeout.inSeconds

    @Option(
        help: "The least severe log level written to stderr."
    )
    var logLevel: Logger.Level = .notice

    @Option(help: "How logs are written to stderr; json is one object per line.")
    var logFormat: LogFormat = .text

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard self.history >= 0 else { throw ValidationError("--history must be 0 or more.") }
        guard self.rateLimit >= 0, self.rateLimit.isFinite else {
            throw ValidationError("--rate-limit must be 0 or more.")
        }
        guard self.burst >= 1 else { throw ValidationError("--burst must be 1 or more.") }
        if let echoPath = self.echoPath {
            guard echoPath.hasPrefix("/"), echoPath != "/healthz", echoPath != "/ws", !echoPath.hasPrefix("/ws/") else {
                throw ValidationError("--echo-path must be a path such as /echo, apart from /ws and /healthz.")
            }
        }
        guard (self.tlsCert == nil) == (self.tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together.")
        }
        guard self.maxConnections >= 1 else { throw ValidationError("--max-connections must be 1 or more.") }
        guard self.maxConnectionsPerAddress >= 0 else {
            throw ValidationError("--max-connections-per-ip must be 0 or more.")
        }
        guard self.maxClientBacklog.bytes >= 4096, self.maxTotalBacklog.bytes >= self.maxClientBacklog.bytes else {
            throw ValidationError("--max-client-backlog must be 4K or more, and --max-total-backlog at least as much.")
        }
        guard self.slowConsumerTimeout > 0, self.slowConsumerTimeout.isFinite else {
            throw ValidationError("--slow-consumer-timeout must be more than 0.")
        }
        let frameLimit = Self.defaults.maxFrameBytes
        guard (1...(frameLimit - 4096)).contains(self.maxMessageBytes) else {
            throw ValidationError("--max-message-bytes must be from 1 to \(frameLimit - 4096).")
        }
    }

    func run() async throws {
        let logger = bootstrapLogging(level: self.logLevel, label: "chat.serve", format: self.logFormat)
        try await withExitStatus {
            let configuration = try self.serverConfiguration()
            let store = try await self.openStore(logger: logger)
            let server = ChatServer(configuration: configuration, logger: logger, store: store) { address in
                self.announce(address, tls: configuration.tls != nil, logger: logger)
            }
            // The store's services first: a group stops its services last to first, so they outlive the server.
            let group = ServiceGroup(
                services: store.services + [server],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
            do {
                try await group.run()
                await store.close()
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// The server as the flags (and the token file) describe it.
    private func serverConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration(
            host: self.host,
            port: self.port,
            historySize: self.history,
            rateLimit: self.rateLimit,
            burst: self.burst,
            maxMessageBytes: self.maxMessageBytes,
            slowConsumerTimeout: .seconds(self.slowConsumerTimeout),
            maxConnections: self.maxConnections
        )
        configuration.maxConnectionsPerAddress = self.maxConnectionsPerAddress
        configuration.maxClientBacklog = self.maxClientBacklog.bytes
        configuration.maxTotalBacklog = self.maxTotalBacklog.bytes
        configuration.echoPath = self.echoPath
        if let certificate = self.tlsCert, let key = self.tlsKey {
            configuration.tls = try ServerTLS.load(certificate: certificate, key: key)
        }
        configuration.token = try TokenFile.token(path: self.tokenFile, variable: "CHAT_SERVER_TOKEN")
        configuration.allowedOrigins = self.allowOrigin
        // A registry of this server's own, rendered at /metrics.
        let registry = PrometheusCollectorRegistry()
        configuration.metrics = .init(
            factory: PrometheusMetricsFactory(registry: registry),
            exposition: { registry.emitToString() }
        )
        return configuration
    }

    /// `--store` (or `$CHAT_STORE`): a SQLite file, or the PostgreSQL database of a cluster; neither
    /// keeps everything in memory.
    private func openStore(logger: Logger) async throws -> ServerStore {
        let environment = ProcessInfo.processInfo.environment["CHAT_STORE"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = self.store ?? environment else { return .memory }
        guard PostgresLocation.isDatabaseURL(path) else {
            return .file(try await MessageStore.open(path: path, logger: logger))
        }
        let cluster = try await ClusterStore.open(
            PostgresLocation.parse(path),
            name: "\(self.host):\(self.port) pid \(ProcessInfo.processInfo.processIdentifier)",
            logger: logger
        )
        return .cluster(cluster)
    }

    /// The one line on stdout, flushed, so `--port 0` works for scripts that read it; and where to point
    /// a browser: for people a plain line on stderr, for log shippers one more JSON object.
    private func announce(_ address: SocketAddress, tls: Bool, logger: Logger) {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let port = address.port ?? self.port
        try? StandardOutput.writeLine("listening on \(tls ? "wss" : "ws")://\(host):\(port)/ws")
        let page = "\(tls ? "https" : "http")://\(host):\(port)/"
        switch self.logFormat {
        case .text: StandardError.line("chat: open \(page) in a browser")
        case .json: logger.notice("open in a browser", metadata: ["chat.url": "\(page)"])
        }
    }
}
