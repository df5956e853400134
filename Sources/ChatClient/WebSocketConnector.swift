import ChatProtocol
import ChatTransport
package import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
package import NIOWebSocket

/// Opens a TCP connection and performs the WebSocket upgrade (RFC 6455 §4), nothing more.
///
/// Shared by the chat client and by tests that need to send frames a well-behaved client never would.
package enum WebSocketConnector {
    /// Connects to `host:port` and upgrades `target`; throws `ChatClientError` when that fails.
    package static func connect(
        host: String,
        port: Int,
        target: String,
        maxFrameBytes: Int = 16 * 1024 * 1024,
        connectTimeout: Duration = .seconds(10),
        receiveBufferSize: Int? = nil,
        token: String? = nil,
        tls: ClientTLS? = nil,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared
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
        let outcome: EventLoopFuture<WebSocketHandshakeHandler.Outcome>
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
            outcome =
                try await bootstrap
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        let handshake = WebSocketHandshakeHandler(
                            request: request,
                            maxFrameBytes: maxFrameBytes,
                            eventLoop: channel.eventLoop
                        )
                        try channel.pipeline.syncOperations.addHandler(handshake)
                        return handshake.outcome
                    }
                }
        } catch  where NetworkErrorText.isReset(error) {
            // Reset as soon as it was accepted: the same as a reset before the answer, and said the same way.
            throw ChatClientError.unreachable(authority, WebSocketHandshakeHandler.Failure.lost(error).description)
        } catch {
            throw ChatClientError.unreachable(authority, NetworkErrorText.describe(error))
        }
        let result: WebSocketHandshakeHandler.Outcome
        do {
            result = try await outcome.get()
        } catch let failure as WebSocketHandshakeHandler.Failure where failure.closedEarly {
            // Like a refused connection: the server (or a proxy in front of it) is there but not serving.
            throw ChatClientError.unreachable(authority, failure.description)
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
        } catch {
            throw ChatClientError.protocolViolation("the WebSocket handshake failed: \(error)")
        }
        switch result {
        case .upgraded(let channel):
            return channel
        case .refused(let status, let body):
            let endpoint = "\(scheme)://\(authority)\(target.prefix { $0 != "?" })"
            throw ChatClientError.upgradeRefused(
                endpoint,
                status: status,
                reason: TerminalSanitizer.sanitize(String(body.prefix(200)))
            )
        }
    }
}
