import ChatProtocol
import ChatTransport
package import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
package import NIOWebSocket

/// Opens a TCP connection and performs the WebSocket upgrade (RFC 6455 §4), nothing more: NIO's typed
/// client upgrader does the handshake, with `HandshakeObserver` for what NIO does not tell.
///
/// Shared by the chat client and by tests that need to send frames a well-behaved client never would.
package enum WebSocketConnector {
    /// How the upgrade ended.
    enum Outcome: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused(HandshakeObserver.Refusal)
    }

    /// Connects to `host:port` and upgrades `target`; throws `ChatClientError` when that fails.
    /// - Parameter requestKey: The `Sec-WebSocket-Key`: a fresh random one, but in tests.
    package static func connect(
        host: String,
        port: Int,
        target: String,
        maxFrameBytes: Int = 16 * 1024 * 1024,
        connectTimeout: Duration = .seconds(10),
        receiveBufferSize: Int? = nil,
        token: String? = nil,
        tls: ClientTLS? = nil,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared,
        requestKey: String = NIOWebSocketClientUpgrader.randomRequestKey()
    ) async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let authority = (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        var headers = HTTPHeaders()
        // HTTP/1.1 requires a Host header.
        headers.add(name: "Host", value: authority)
        headers.add(name: "User-Agent", value: "chat/\(ChatVersion.current)")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        let scheme = tls == nil ? "ws" : "wss"
        let tlsContext = try tls?.context()
        let serverHostname = ClientTLS.serverHostname(for: host)
        let outcome: EventLoopFuture<Outcome>
        let observer: NIOLoopBound<HandshakeObserver>
        do {
            var bootstrap = ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
            if let receiveBufferSize {
                // Tests use a small fixed buffer to make a client that stops reading stall quickly.
                bootstrap = bootstrap.channelOption(
                    .socketOption(.so_rcvbuf),
                    value: SocketOptionValue(receiveBufferSize)
                )
            }
            (outcome, observer) =
                try await bootstrap
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        return try Self.configure(
                            channel,
                            request: request,
                            requestKey: requestKey,
                            maxFrameBytes: maxFrameBytes
                        )
                    }
                }
        } catch where NetworkErrorText.isReset(error) {
            // Reset as soon as it was accepted: the same as a reset before the answer, and said the same way.
            throw ChatClientError.unreachable(authority, HandshakeObserver.Failure.lost(error).description)
        } catch {
            throw ChatClientError.unreachable(authority, NetworkErrorText.describe(error))
        }
        let result: Outcome
        do {
            result = try await outcome.get()
        } catch let error as NIOSSLExtraError where error == .failedToValidateHostname {
            throw ChatClientError.untrusted(
                "\(scheme)://\(authority)",
                "the server's certificate is not valid for \(host)"
            )
        } catch let error where TLSErrorText.isVerificationFailure(error) {
            let reason = await CertificateDiagnosis.explain(
                host: host,
                port: port,
                serverHostname: serverHostname,
                group: eventLoopGroup
            )
            throw ChatClientError.untrusted("\(scheme)://\(authority)", reason)
        } catch let error as NIOSSLError {
            throw ChatClientError.protocolViolation(
                "\(TLSErrorText.describe(error)) (is it a \(scheme == "wss" ? "ws://" : "wss://") server?)"
            )
        } catch let error as HTTPParserError {
            throw ChatClientError.protocolViolation(
                error == .headerOverflow
                    ? "the server's response headers are too large" : "the server did not answer with HTTP"
            )
        } catch let error as NIOHTTPClientUpgradeError {
            throw ChatClientError.protocolViolation(
                "the server's WebSocket handshake answer is invalid\(error == .upgraderDeniedUpgrade ? "" : ": \(error)")"
            )
        } catch where error is ChannelError || error is IOError {
            // The connection ended before an answer (NIO's upgrade handler fails when it is removed with it),
            // or a read failed: like a refused connection, the server (or a proxy in front of it) is there
            // but not serving.
            let failure = try await observer.eventLoop.submit { observer.value.failure }.get()
            throw ChatClientError.unreachable(authority, failure.description)
        } catch {
            throw ChatClientError.protocolViolation("the WebSocket handshake failed: \(error)")
        }
        switch result {
        case .upgraded(let channel):
            return channel
        case .refused(let refusal):
            let (status, body) = (refusal.status, refusal.body)
            let endpoint = "\(scheme)://\(authority)\(target.prefix { $0 != "?" })"
            throw ChatClientError.upgradeRefused(
                endpoint,
                status: status,
                reason: TerminalSanitizer.sanitize(String(body.prefix(200)))
            )
        }
    }

    /// The pipeline of a connection being upgraded: NIO's HTTP client with its WebSocket upgrader, the
    /// observer below them; once upgraded, NIO's frame codec (with its protocol error handling) and an
    /// aggregator, so fragmented messages arrive whole.
    private static func configure(
        _ channel: any Channel,
        request: HTTPRequestHead,
        requestKey: String,
        maxFrameBytes: Int
    ) throws -> (EventLoopFuture<Outcome>, NIOLoopBound<HandshakeObserver>) {
        let observer = NIOLoopBound(HandshakeObserver(), eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(observer.value)
        let upgrader = NIOTypedWebSocketClientUpgrader<Outcome>(
            requestKey: requestKey,
            maxFrameSize: maxFrameBytes,
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    channel.pipeline.syncOperations.removeHandler(observer.value, promise: nil)
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: 4096,
                            maxAccumulatedFrameSize: maxFrameBytes
                        )
                    )
                    return .upgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                }
            }
        )
        var upgrade = NIOUpgradableHTTPClientPipelineConfiguration(
            upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                upgradeRequestHead: request,
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    // A refusal: explained by its status and the first line of its body, then hung up.
                    observer.value.refusal(on: channel.eventLoop).map { refusal in
                        channel.close(promise: nil)
                        return Outcome.refused(refusal)
                    }
                }
            )
        )
        // What comes in the same read as the `101` (a chat server's welcome) is WebSocket data: NIO drops
        // it by default (`NIOUpgraderTests`).
        upgrade.leftOverBytesStrategy = .forwardBytes
        let outcome = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: upgrade)
        // A refused or failed handshake leaves nothing to read: the connection goes.
        outcome.whenFailure { _ in channel.close(promise: nil) }
        return (outcome, observer)
    }
}
