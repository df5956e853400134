import ChatProtocol
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket

/// The pipeline of an accepted connection: TLS, admission, the request head, then an upgrade to a
/// WebSocket (chat or echo) or a plain HTTP answer.
extension ChatServer {
    static func refuse(
        _ channel: any Channel,
        _ refusal: ChannelRegistry.Refusal
    ) -> EventLoopFuture<EventLoopFuture<Upgraded>> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(OverCapacityResponder(refusal))
            return channel.eventLoop.makeFailedFuture(ChatServerError.overCapacity)
        }
    }

    static func configurePipeline(
        _ channel: any Channel,
        configuration: ServerConfiguration,
        queue: DeliveryQueue,
        budget: BacklogBudget,
        settings: ConnectionSettings,
        logger: Logger,
        hub: RoomHub
    ) throws -> EventLoopFuture<Upgraded> {
        let recorder = NIOLoopBound(RequestHeadRecorder(), eventLoop: channel.eventLoop)
        let log = hub.log
        let metrics = hub.metrics
        let admission = log.admitsBeforeUpgrade ? NIOLoopBound(Admission(), eventLoop: channel.eventLoop) : nil
        // What `shouldUpgrade` made of the request, for the pipeline it builds — or, refused, for the
        // HTTP answer. A request that asked for no upgrade gets its route when it is answered.
        let decided = NIOLoopBoundBox<(route: Route, decision: UpgradeDecision)?>(nil, eventLoop: channel.eventLoop)
        // A connection that never completes its request head (idle, or trickling bytes) is closed.
        let handshakeTimer = channel.eventLoop.scheduleTask(in: TimeAmount(configuration.handshakeTimeout)) {
            channel.close(promise: nil)
        }
        let upgrader = NIOTypedWebSocketServerUpgrader<Upgraded>(
            maxFrameSize: configuration.maxFrameBytes,
            shouldUpgrade: { channel, head in
                let route = Route(head.uri, echoPath: configuration.echoPath)
                let decision = UpgradeDecision(
                    head,
                    route: route,
                    configuration: configuration,
                    healthy: log.unhealthiness == nil
                )
                decided.value = (route, decision)
                switch decision {
                case .refuse:
                    return channel.eventLoop.makeSucceededFuture(nil)
                case .chat(let request):
                    if let admission {
                        return Admission.start(admission, request: request, hub: hub, channel: channel)
                    }
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                case .echo:
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                }
            },
            upgradePipelineHandler: { channel, _ in
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
                    switch decided.value?.decision {
                    case .chat(let request)?:
                        return Upgraded.websocket(channel, connection, request, admission?.value.take())
                    case .echo?:
                        return Upgraded.echo(connection)
                    case .refuse?, nil:
                        // NIO upgrades only what `shouldUpgrade` accepted.
                        throw UpgradeDecision.Undecided()
                    }
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
                    return Upgraded.http(
                        asyncChannel,
                        recorder.value.head,
                        decided.value?.route,
                        admission?.value.refusal
                    )
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

}
