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
    private enum Upgraded {
        /// In a cluster, with the member the database admitted before the upgrade (`ClusterAdmission`).
        case websocket(any Channel, ServerConnection, ConnectRequest, (user: ChatUser, box: RoomHub.RoomBox)?)
        case echo(ServerConnection)
        /// With whether a cluster node refused the upgrade for want of its database (503).
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, HTTPRequestHead?, Bool)
    }

    private let configuration: ServerConfiguration
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) -> Void
    private let hub: RoomHub
    private let store: MessageStore?
    /// Set when this server is one node of a cluster (`--store postgres://…`).
    private let cluster: ClusterNode?
    private let channels = ChannelRegistry()
    private let queues = DeliveryQueues()
    private let budget: BacklogBudget
    private let settings: ConnectionSettings

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
                try? await cancelWhenGracefulShutdown { await cluster.listening() }
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

    private static func refuse(
        _ channel: any Channel,
        _ refusal: ChannelRegistry.Refusal
    ) -> EventLoopFuture<EventLoopFuture<Upgraded>> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(OverCapacityResponder(refusal))
            return channel.eventLoop.makeFailedFuture(ChatServerError.overCapacity)
        }
    }

    private static func configurePipeline(
        _ channel: any Channel,
        configuration: ServerConfiguration,
        queue: DeliveryQueue,
        budget: BacklogBudget,
        settings: ConnectionSettings,
        logger: Logger,
        metrics: ServerMetrics,
        cluster: ClusterNode?
    ) throws -> EventLoopFuture<Upgraded> {
        let recorder = NIOLoopBound(RequestHeadRecorder(), eventLoop: channel.eventLoop)
        let admission = cluster.map { _ in NIOLoopBound(ClusterAdmission(), eventLoop: channel.eventLoop) }
        // A connection that never completes its request head (idle, or trickling bytes) is closed.
        let handshakeTimer = channel.eventLoop.scheduleTask(in: TimeAmount(configuration.handshakeTimeout)) {
            channel.close(promise: nil)
        }
        let upgrader = NIOTypedWebSocketServerUpgrader<Upgraded>(
            maxFrameSize: configuration.maxFrameBytes,
            shouldUpgrade: { channel, head in
                // Only a valid chat path with valid parameters (or the echo path), the token and an allowed
                // origin upgrade; the rest is answered over HTTP (404, 400, 401, 403).
                let allowed: Bool
                if UpgradeRequirements.refusal(for: head) != nil {
                    // Not a real HTTP/1.1 GET handshake (RFC 6455 §4.2.1): HTTPResponder says what is wrong.
                    allowed = false
                } else if Self.isEcho(head, configuration) {
                    allowed =
                        configuration.accessPolicy.check(head, queryToken: ConnectRequest.queryToken(head.uri)) == nil
                } else if case .success(let request)? = ConnectRequest.parse(uri: head.uri) {
                    // A cluster node that cannot reach its database answers 503 instead (HTTPResponder).
                    allowed =
                        configuration.accessPolicy.check(head, queryToken: request.token) == nil
                        && cluster?.isHealthy ?? true
                    if allowed, let cluster, let admission {
                        return ClusterAdmission.start(admission, request: request, cluster: cluster, channel: channel)
                    }
                } else {
                    allowed = false
                }
                guard allowed else { return channel.eventLoop.makeSucceededFuture(nil) }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    handshakeTimer.cancel()
                    // The request head is only needed to explain a refusal; an upgraded connection drops it.
                    channel.pipeline.syncOperations.removeHandler(recorder.value, promise: nil)
                    // What NIO's decoder leaves unchecked (masking, reserved bits, control frames, close
                    // codes) is checked first; then fragmented messages arrive whole, within the same frame
                    // cap as unfragmented ones.
                    try channel.pipeline.syncOperations.addHandler(WebSocketFrameValidator())
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: 1024,
                            maxAccumulatedFrameSize: configuration.maxFrameBytes
                        )
                    )
                    // Encoded frames are written next to the head (after TLS), past NIO's frame encoder.
                    let encoder = try channel.pipeline.syncOperations.handler(type: WebSocketFrameEncoder.self)
                    try channel.pipeline.syncOperations.addHandler(
                        WireWriter(eventLoop: channel.eventLoop),
                        position: .before(encoder)
                    )
                    let connection = ServerConnection(
                        eventLoop: channel.eventLoop,
                        queue: queue,
                        settings: settings,
                        logger: logger,
                        budget: budget,
                        onSlowConsumer: { metrics.slowConsumersClosed.increment() }
                    )
                    try channel.pipeline.syncOperations.addHandler(connection)
                    if Self.isEcho(head, configuration) { return Upgraded.echo(connection) }
                    guard case .success(let request)? = ConnectRequest.parse(uri: head.uri) else {
                        preconditionFailure("shouldUpgrade accepted an invalid request: \(head.uri)")
                    }
                    return Upgraded.websocket(channel, connection, request, admission?.value.take())
                }
            }
        )
        let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    handshakeTimer.cancel()
                    let asyncChannel = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                    return Upgraded.http(asyncChannel, recorder.value.head, admission?.value.failed ?? false)
                }
            }
        )
        // Before the HTTP decoder (and after TLS): the head is bounded while it is read, not once it is in.
        try channel.pipeline.syncOperations.addHandler(
            RequestHeadLimiter(
                maxBytes: configuration.maxRequestHeadBytes,
                maxLines: configuration.maxRequestHeadLines
            )
        )
        let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: .init(upgradeConfiguration: upgradeConfiguration)
        )
        let upgradeHandler = try channel.pipeline.syncOperations.handler(
            type: NIOTypedHTTPServerUpgradeHandler<Upgraded>.self
        )
        try channel.pipeline.syncOperations.addHandler(recorder.value, position: .before(upgradeHandler))
        return upgraded
    }

    /// Serves one accepted connection. It never throws: one bad client must not stop the server.
    private func handle(_ upgrade: EventLoopFuture<Upgraded>) async {
        do {
            switch try await upgrade.get() {
            case .websocket(let channel, let connection, let request, let claimed):
                await self.serveWebSocket(channel, connection: connection, request: request, claimed: claimed)
            case .echo(let connection):
                self.serveEcho(connection)
            case .http(let channel, let head, let admissionFailed):
                try await self.serveHTTP(channel, head: head, admissionFailed: admissionFailed)
            }
        } catch {
            self.logger.debug("connection failed", metadata: ["chat.error": "\(error)"])
        }
    }

    private func serveHTTP(
        _ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        head recordedHead: HTTPRequestHead?,
        admissionFailed: Bool
    ) async throws {
        try await channel.executeThenClose { inbound, outbound in
            // A refused upgrade arrives without its head (see RequestHeadRecorder); others bring it inline.
            var head = recordedHead
            if head == nil {
                for try await part in inbound {
                    if case .head(let inlineHead) = part {
                        head = inlineHead
                        break
                    }
                }
            }
            guard let head else { return }
            let answer = HTTPResponder.response(
                for: head,
                policy: self.configuration.accessPolicy,
                echoPath: self.configuration.echoPath,
                unhealthy: admissionFailed ? ClusterNode.unreachable : self.cluster?.unhealthiness
            ) {
                let levels = self.hub.levels
                return self.hub.metrics.render(
                    connections: self.channels.count,
                    rooms: levels.rooms,
                    historyMessages: levels.history,
                    backlogBytes: self.budget.usedBytes
                )
            }
            // Every response says `Connection: close`, so there is one request per connection.
            try await HTTPResponder.write(answer, headOnly: head.method == .HEAD, to: outbound)
        }
    }

    /// For a resume older than the room's history: the messages the store still has, within
    /// `maxReadBackBytes`. Empty without a store, when the history suffices, or when reading fails
    /// (the client is then told it was not recovered, as without a store).
    private func readBack(for request: ConnectRequest) async -> [Room.StoredMessage] {
        guard let seqs = self.hub.missing(for: request) else { return [] }
        let maxBytes = self.configuration.maxReadBackBytes
        do {
            if let cluster = self.cluster {
                let room = request.room
                return try await withDeadline(ClusterNode.callLimit) {
                    try await cluster.store.messages(room: room, seqs: seqs, maxBytes: maxBytes)
                }
            }
            guard let store = self.store else { return [] }
            return try await store.messages(room: request.room, seqs: seqs, maxBytes: maxBytes)
        } catch {
            let (name, reason) =
                if let cluster = self.cluster {
                    ("\(cluster.store.location)", ClusterStore.describe(error))
                } else {
                    (self.store?.path ?? "", MessageStore.describe(error))
                }
            self.logger.error(
                "cannot read history back from the store",
                metadata: ["chat.store": "\(name)", "chat.error": "\(reason)"]
            )
            return []
        }
    }

    private static func isEcho(_ head: HTTPRequestHead, _ configuration: ServerConfiguration) -> Bool {
        guard let echoPath = configuration.echoPath else { return false }
        return ConnectRequest.split(head.uri).path == echoPath
    }

    /// `--echo-path`: every message comes back verbatim — text as text (if it is UTF-8, else 1007),
    /// binary as binary — with the same limits, pings and close handshake as a chat connection.
    private func serveEcho(_ connection: ServerConnection) {
        connection.attach(
            ServerConnection.Application(
                onText: { payload in
                    guard String(validating: payload.readableBytesView, as: UTF8.self) != nil else {
                        connection.requestClose(.dataInconsistentWithMessage, reason: "invalid UTF-8")
                        return
                    }
                    connection.send(payload, opcode: .text)
                },
                onBinary: { payload in connection.send(payload, opcode: .binary) },
                onClosed: { _ in }
            )
        )
    }

    /// Joins the client to its room and hands its frames to a session; the connection's handler does the
    /// rest on its event loop, and leaves the room when the channel closes. No task waits per connection.
    private func serveWebSocket(
        _ channel: any Channel,
        connection: ServerConnection,
        request: ConnectRequest,
        claimed: (user: ChatUser, box: RoomHub.RoomBox)?
    ) async {
        self.hub.metrics.connectionsTotal.increment()
        if self.cluster != nil, claimed == nil {
            // Admission decides before the upgrade; an upgrade without a member is a bug, not a client's.
            connection.requestClose(.unexpectedServerError, reason: "not admitted")
            return
        }
        let earlier = await self.readBack(for: request)
        let (user, box) = self.hub.join(connection, request: request, earlier: earlier, claimed: claimed)
        let logger = self.logger
        // Built when something is logged: an idle connection keeps no metadata of its own.
        let metadata: @Sendable () -> Logger.Metadata = {
            [
                "chat.peer": ServerConnection.peer(channel),
                "chat.room": "\(box.name)", "chat.user": "\(user.name)",
            ]
        }
        logger.info("connection opened", metadata: metadata())
        let started = ContinuousClock.now
        let session = ServerSession(
            hub: self.hub,
            box: box,
            userID: user.id,
            connection: connection,
            configuration: self.configuration,
            cluster: self.cluster
        )
        let hub = self.hub
        let cluster = self.cluster
        connection.attach(
            ServerConnection.Application(
                onText: session.received,
                onBinary: nil,
                onClosed: { code in
                    hub.leave(box, userID: user.id)
                    cluster?.release(uid: user.id)
                    let code = code.map { "\(UInt16(webSocketErrorCode: $0))" } ?? "1006"
                    logger.info(
                        "connection closed",
                        metadata: metadata().merging(
                            ["chat.close_code": "\(code)", "chat.duration": "\(ContinuousClock.now - started)"]
                        ) { $1 }
                    )
                },
                // One capture, so no closure context of its own per connection.
                onBehind: { behind in session.memberIsBehind(behind) }
            )
        )
    }
}
