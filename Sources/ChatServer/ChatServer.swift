import ChatProtocol
public import ChatTransport
import CoreMetrics
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
        /// In a cluster, with the member the database admitted before the upgrade (`ClusterAdmission`).
        case websocket(any Channel, ServerConnection, ConnectRequest, (user: ChatUser, box: RoomHub.RoomBox)?)
        case echo(ServerConnection)
        /// With the route a refused upgrade was given, and whether a cluster node refused it for want of
        /// its database (503).
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, HTTPRequestHead?, Route?, Bool)
    }

    let configuration: ServerConfiguration
    let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) -> Void
    let hub: RoomHub
    let store: MessageStore?
    /// Set when this server is one node of a cluster (`--store postgres://…`).
    let cluster: ClusterNode?
    let channels = ChannelRegistry()
    let queues = DeliveryQueues()
    let budget: BacklogBudget
    let settings: ConnectionSettings

    /// Creates a server.
    /// - Parameters:
    ///   - configuration: Where to listen and the limits to enforce.
    ///   - logger: Where connection events go (at `info` and below).
    ///   - store: Where history is kept durably; nil keeps it in memory. The caller opens and closes it;
    ///     the server loads it when it starts and has written everything to it when `run()` returns.
    ///   - cluster: The database of the cluster this server is a node of (instead of `store`): rooms,
    ///     seqs, history and members are shared with every other node on it. The caller runs `cluster.pool`
    ///     as a service before this one (see `ClusterStore.pool`).
    ///   - eventLoopGroup: The NIO event loops to run on.
    ///   - onListening: Called once with the bound address, before the first connection is accepted.
    public init(
        configuration: ServerConfiguration,
        logger: Logger,
        store: MessageStore? = nil,
        cluster: ClusterStore? = nil,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        self.eventLoopGroup = eventLoopGroup
        self.onListening = onListening
        self.settings = ConnectionSettings(configuration)
        self.budget = BacklogBudget(
            limit: configuration.maxTotalBacklog,
            progressGrace: TimeAmount(configuration.slowReaderGrace)
        )
        if let cluster {
            self.hub = RoomHub(
                configuration: configuration,
                epoch: cluster.epoch,
                posts: StoreWriter(backlogLimit: configuration.storeBacklog)
            )
            self.cluster = ClusterNode(store: cluster, hub: self.hub, logger: logger)
        } else if let store {
            self.hub = RoomHub(
                configuration: configuration,
                epoch: store.epoch,
                writer: StoreWriter(backlogLimit: configuration.storeBacklog)
            )
            self.cluster = nil
        } else {
            self.hub = RoomHub(configuration: configuration)
            self.cluster = nil
        }
    }

    /// Serves until graceful shutdown (or cancellation).
    public func run() async throws {
        if let store = self.store {
            let rooms = try await store.load(
                newest: max(self.configuration.historySize, self.configuration.dedupWindow)
            )
            self.hub.restore(rooms)
            self.logger.info(
                "store loaded",
                metadata: [
                    "chat.store": "\(store.path)", "chat.rooms": "\(rooms.count)",
                    "chat.messages": "\(rooms.reduce(0) { $0 + $1.lastSeq })",
                ]
            )
        }
        try await withThrowingDiscardingTaskGroup { group in
            if let cluster = self.cluster {
                group.addTask { await cluster.run() }
                // Clients are admitted once the node hears the cluster, so its first welcome is complete
                // (a stop asked for meanwhile is not kept waiting for a database that does not answer).
                await cancelWhenGracefulShutdown { await cluster.listening() }
            }
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

            if let store = self.store, let writer = self.hub.writer {
                group.addTask {
                    await writer.run(
                        store: store.path,
                        logger: self.logger,
                        describe: MessageStore.describe,
                        write: store.append
                    ) { batch, _ in self.hub.confirm(batch) }
                }
            }
            group.addTask {
                // Cancellation (rather than graceful shutdown) also ends up here, and cleans up the same way.
                try? await gracefulShutdown()
                self.logger.info("shutting down")
                serverChannel.channel.close(promise: nil)
                self.hub.closeAll(.goingAway, reason: "server shutting down")
                await self.channels.waitUntilEmpty(timeout: self.configuration.shutdownTimeout)
                // Whatever is still queued is written before `run()` returns.
                self.hub.writer?.finish()
                self.hub.posts?.finish()
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
        let metrics = self.hub.metrics
        let cluster = self.cluster
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
                            metrics: metrics,
                            cluster: cluster
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
            case .http(let channel, let head, let route, let admissionFailed):
                try await self.serveHTTP(channel, head: head, route: route, admissionFailed: admissionFailed)
            }
        } catch {
            self.logger.debug("connection failed", metadata: ["chat.error": "\(error)"])
        }
    }

}
