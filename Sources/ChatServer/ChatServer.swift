import ChatProtocol
public import ChatTransport
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
public import ServiceLifecycle

/// The chat server: HTTP/1.1 with the WebSocket upgrade on `/ws` and `/ws/ROOM`, plus `/healthz`.
///
/// `run()` binds, serves until graceful shutdown, then stops accepting, closes every client with 1001
/// (going away) and waits a bounded time for them.
public final class ChatServer: Service {
    enum Upgraded {
        /// With the member the log admitted before the upgrade, when it does (`Admission`).
        case websocket(any Channel, ServerConnection, ConnectRequest, Claim?)
        case echo(ServerConnection)
        /// With the route a refused upgrade was given, and why the log could not admit it (503), if so.
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, HTTPRequestHead?, Route?, String?)
    }

    let configuration: ServerConfiguration
    let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) -> Void
    /// Every room, and the log that gives their messages seqs (`hub.log`).
    let hub: RoomHub
    let channels = ChannelRegistry()
    let queues = DeliveryQueues()
    let budget: BacklogBudget
    let settings: ConnectionSettings

    /// Creates a server.
    /// - Parameters:
    ///   - configuration: Where to listen and the limits to enforce.
    ///   - logger: Where connection events go (at `info` and below).
    ///   - store: Where messages are kept: in memory, a SQLite file, or the database of a cluster this
    ///     server is a node of. The caller opens and closes it (and runs what `ServerStore.services` lists
    ///     before this service); the server loads it when it starts and has written everything to it when
    ///     `run()` returns.
    ///   - eventLoopGroup: The NIO event loops to run on.
    ///   - onListening: Called once with the bound address, before the first connection is accepted.
    public init(
        configuration: ServerConfiguration,
        logger: Logger,
        store: ServerStore = .memory,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.onListening = onListening
        self.settings = ConnectionSettings(configuration)
        self.budget = BacklogBudget(
            limit: configuration.maxTotalBacklog,
            progressGrace: TimeAmount(configuration.slowReaderGrace)
        )
        self.hub = RoomHub(configuration: configuration, log: store.log(configuration: configuration, logger: logger))
    }

    /// Serves until graceful shutdown (or cancellation).
    public func run() async throws {
        let log = self.hub.log
        try await withThrowingDiscardingTaskGroup { group in
            // The log's loop writes (and in a cluster listens) for as long as the server serves, and a
            // moment longer: until what the last clients posted is written.
            group.addTask { await log.run(self.hub) }
            // The rooms the log kept are back, or the cluster is heard, before the first client comes (a
            // stop asked for meanwhile is not kept waiting for a database that does not answer).
            try await cancelWhenGracefulShutdown { try await log.ready(self.hub) }
            let serverChannel = try await self.bind()
            guard let address = serverChannel.channel.localAddress else {
                throw ChatServerError.bindFailed(
                    host: self.configuration.host,
                    port: self.configuration.port,
                    reason: "no address"
                )
            }
            self.logger.info("listening", metadata: ["chat.address": "\(address)", "chat.epoch": "\(self.hub.epoch)"])
            self.onListening(address)

            group.addTask {
                // Cancellation (rather than graceful shutdown) also ends up here, and cleans up the same way.
                try? await gracefulShutdown()
                self.logger.info("shutting down")
                serverChannel.channel.close(promise: nil)
                self.hub.closeAll(.goingAway, reason: "server shutting down")
                await self.channels.waitUntilEmpty(timeout: self.configuration.shutdownTimeout)
                // Whatever is still queued is written before `run()` returns.
                log.finish()
            }
            try await serverChannel.executeThenClose { inbound in
                for try await upgrade in inbound {
                    group.addTask { await self.handle(upgrade) }
                }
            }
        }
        self.logger.info("stopped")
    }

    private func bind() async throws -> NIOAsyncChannel<EventLoopFuture<Upgraded>, Never> {
        let configuration = self.configuration
        let channels = self.channels
        let queues = self.queues
        let budget = self.budget
        let settings = self.settings
        let logger = self.logger
        let hub = self.hub
        do {
            return try await ServerBootstrap(group: self.eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 1024)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // NIO keeps each channel's last read buffer for reuse: start it small (a request head, a
                // chat message) so an idle connection holds 256 bytes, not 2 KiB; it grows for big reads.
                .childChannelOption(
                    .recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536)
                )
                .bind(host: configuration.host, port: configuration.port) { channel in
                    if let tls = configuration.tls {
                        // TLS first: everything after it, refusals included, is spoken inside it.
                        do {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                        } catch {
                            return channel.eventLoop.makeFailedFuture(error)
                        }
                    }
                    let refusal = channels.admit(
                        channel,
                        max: configuration.maxConnections,
                        maxPerAddress: configuration.maxConnectionsPerAddress
                    )
                    if let refusal {
                        // Say so in plain HTTP (clients retry a 503 or 429 later) and hang up.
                        return Self.refuse(channel, refusal)
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try Self.configurePipeline(
                            channel,
                            configuration: configuration,
                            queue: queues.queue(for: channel.eventLoop),
                            budget: budget,
                            settings: settings,
                            logger: logger,
                            hub: hub
                        )
                    }
                }
        } catch {
            throw ChatServerError.bindFailed(
                host: configuration.host,
                port: configuration.port,
                reason: NetworkErrorText.describe(error)
            )
        }
    }

    /// Serves one accepted connection. It never throws: one bad client must not stop the server.
    private func handle(_ upgrade: EventLoopFuture<Upgraded>) async {
        do {
            switch try await upgrade.get() {
            case .websocket(let channel, let connection, let request, let claimed):
                await self.serveWebSocket(channel, connection: connection, request: request, claimed: claimed)
            case .echo(let connection):
                self.serveEcho(connection)
            case .http(let channel, let head, let route, let refusal):
                try await self.serveHTTP(channel, head: head, route: route, refusal: refusal)
            }
        } catch {
            self.logger.debug("connection failed", metadata: ["chat.error": "\(error)"])
        }
    }

}
