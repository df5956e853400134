#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
package import NIOCore
import NIOHTTP1
import NIOPosix
package import NIOWebSocket

/// Opens a TCP connection and performs the WebSocket upgrade (RFC 6455 §4), nothing more.
///
/// Shared by the chat client and by tests that need to send frames a well-behaved client never would.
package enum WebSocketConnector {
    private enum Upgraded {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case notUpgraded(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    /// Connects to `host:port` and upgrades `target`; throws `ChatClientError` when that fails.
    package static func connect(
        host: String,
        port: Int,
        target: String,
        maxFrameBytes: Int = 16 * 1024 * 1024,
        connectTimeout: Duration = .seconds(10),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let authority = (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        let upgraded: EventLoopFuture<Upgraded>
        do {
            upgraded = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Self.configurePipeline(channel, authority: authority, target: target, maxFrameBytes: maxFrameBytes)
                    }
                }
        } catch {
            throw ChatClientError.unreachable(authority, Self.describe(error))
        }
        let result: Upgraded
        do {
            result = try await upgraded.get()
        } catch {
            throw ChatClientError.protocolViolation("the WebSocket upgrade failed: \(error)")
        }
        switch result {
        case .websocket(let channel):
            return channel
        case .notUpgraded(let channel):
            let (status, body) = try await Self.readRefusal(channel)
            throw ChatClientError.upgradeRefused("ws://\(authority)\(target.prefix { $0 != "?" })", status: status, reason: body)
        }
    }

    private static func configurePipeline(
        _ channel: any Channel,
        authority: String,
        target: String,
        maxFrameBytes: Int
    ) throws -> EventLoopFuture<Upgraded> {
        let upgrader = NIOTypedWebSocketClientUpgrader<Upgraded>(
            maxFrameSize: maxFrameBytes,
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: 4096,
                            maxAccumulatedFrameSize: maxFrameBytes
                        )
                    )
                    return Upgraded.websocket(
                        try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                    )
                }
            }
        )
        var headers = HTTPHeaders()
        // NIO's client pipeline adds no Host header, and HTTP/1.1 requires one.
        headers.add(name: "Host", value: authority)
        headers.add(name: "User-Agent", value: "chat/\(ChatVersion.current)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        let configuration = NIOTypedHTTPClientUpgradeConfiguration(
            upgradeRequestHead: head,
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    Upgraded.notUpgraded(
                        try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel
                        )
                    )
                }
            }
        )
        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
            configuration: .init(upgradeConfiguration: configuration)
        )
    }

    /// The status and the first line of the body of a response that refused the upgrade.
    private static func readRefusal(
        _ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    ) async throws -> (Int, String) {
        try await channel.executeThenClose { inbound, _ in
            var status = 0
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = Int(head.status.code)
                case .body(var chunk):
                    // The first line is enough to explain; never buffer a large body.
                    if body.readableBytes < 512 { body.writeBuffer(&chunk) }
                case .end:
                    let text = String(buffer: body)
                    let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                    return (status, TerminalSanitizer.sanitize(String(firstLine.prefix(200))))
                }
            }
            return (status, "")
        }
    }

    /// A short reason for a connect failure: "connection refused" rather than NIO's full error text.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first {
                return Self.describe(first.error)
            }
            if let dnsError = error.dnsAAAAError ?? error.dnsAError {
                return "cannot resolve host (\(dnsError))"
            }
            return "no address found for the host"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if error is ChannelError, case .connectTimeout = error as? ChannelError {
            return "timed out"
        }
        return "\(error)"
    }
}
