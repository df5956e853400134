import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization
import Testing

@testable import ChatClient

/// Whether the bytes that arrive in the same segment as the `101` — a chat server sends its welcome at
/// once — reach the upgraded channel through NIO's own client upgrader (`NIOTypedWebSocketClientUpgrader`,
/// of the NIO version this package resolves), which the client uses (`WebSocketConnector`). Each client,
/// once upgraded, sends a ping; the server answers it with a pong. The first frame the client reads is
/// the welcome when nothing was lost, and the pong when the welcome was.
@Suite(.timeLimit(.minutes(1)))
struct NIOUpgraderTests {
    /// RFC 6455 §1.3's example key and the accept value it has to get.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    /// The server sends the welcome only once the client has spoken: NIO's upgrader gets it. This shows
    /// the server below is one NIO's client upgrades to.
    @Test func nioGetsAWelcomeSentAfterThe101() async throws {
        try await withWelcomeServer(sameSegment: false) { port in
            let first = try await self.firstFrameThroughNIO(port: port)
            #expect(first == "welcome")
        }
    }

    /// With the `101` and the welcome in one segment, NIO's upgrader drops the welcome by default
    /// (`leftOverBytesStrategy` `.dropBytes`): the client's first frame is the pong.
    @Test func nioLosesAWelcomeInTheSameSegmentAsThe101ByDefault() async throws {
        try await withWelcomeServer(sameSegment: true) { port in
            let first = try await self.firstFrameThroughNIO(port: port)
            #expect(first == "pong")
        }
    }

    /// With `.forwardBytes`, NIO hands them on.
    @Test func nioForwardsAWelcomeInTheSameSegmentAsThe101WhenAsked() async throws {
        try await withWelcomeServer(sameSegment: true) { port in
            let first = try await self.firstFrameThroughNIO(port: port, leftOverBytes: .forwardBytes)
            #expect(first == "welcome")
        }
    }

    /// `WebSocketConnector`, the client engine's handshake (NIO's upgrader, with `.forwardBytes`), gets the
    /// welcome either way.
    @Test(arguments: [true, false])
    func theClientsConnectorGetsTheWelcome(sameSegment: Bool) async throws {
        try await withWelcomeServer(sameSegment: sameSegment) { port in
            let channel = try await WebSocketConnector.connect(
                host: "127.0.0.1",
                port: port,
                target: "/ws",
                requestKey: Self.key
            )
            let first = try await Self.pingThenFirstFrame(channel)
            #expect(first == "welcome")
        }
    }

    private func firstFrameThroughNIO(
        port: Int,
        leftOverBytes: RemoveAfterUpgradeStrategy = .dropBytes
    ) async throws -> String? {
        let upgraded = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<NIOAsyncChannel<WebSocketFrame, WebSocketFrame>?>(
                        requestKey: Self.key,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                            }
                        }
                    )
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "127.0.0.1:\(port)")
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                        upgradeRequestHead: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws", headers: headers),
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(nil) }
                    )
                    var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                    pipeline.leftOverBytesStrategy = leftOverBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: pipeline
                    )
                }
            }
            .get()
        let channel = try #require(upgraded, "the 101 was not taken as an upgrade")
        return try await Self.pingThenFirstFrame(channel)
    }

    /// Sends a ping and returns what the first frame read is: "pong", or the text of a text frame.
    private static func pingThenFirstFrame(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async throws -> String? {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer()))
            var frames = inbound.makeAsyncIterator()
            guard let first = try await frames.next() else { return nil }
            return first.opcode == .pong ? "pong" : String(buffer: first.unmaskedData)
        }
    }
}

/// A server that answers an upgrade request with the `101` and a text frame "welcome" — in one write (one
/// segment on loopback), or the welcome only once the client has sent something — and answers the
/// client's first frame (its ping) with a pong.
private func withWelcomeServer(sameSegment: Bool, _ body: (Int) async throws -> Void) async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.pipeline.addHandler(WelcomeServer(sameSegment: sameSegment))
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    do {
        try await body(server.localAddress?.port ?? 0)
    } catch {
        try? await server.close()
        throw error
    }
    try await server.close()
}

private final class WelcomeServer: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage { case head([UInt8]), upgraded, answered }

    let sameSegment: Bool
    private let stage = Mutex(Stage.head([]))

    init(sameSegment: Bool) {
        self.sameSegment = sameSegment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(self.unwrapInboundIn(data).readableBytesView)
        let answer: [UInt8]? = self.stage.withLock { stage in
            switch stage {
            case .head(var head):
                head += bytes
                guard let end = head.firstRange(of: Array("\r\n\r\n".utf8)) else {
                    stage = .head(head)
                    return nil
                }
                let upgrade = Array(
                    ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: \(NIOUpgraderTests.accept)\r\n\r\n").utf8
                )
                stage = .upgraded
                // The client's ping may have come in the same read as its request.
                let early = head[end.upperBound...].isEmpty ? [] : self.reply
                return upgrade + (self.sameSegment ? Self.welcome : []) + early
            case .upgraded:
                stage = .answered
                return self.reply
            case .answered:
                return nil
            }
        }
        guard let answer else { return }
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil)
    }

    private static let welcome: [UInt8] = [0x81, 7] + Array("welcome".utf8)
    private static let pong: [UInt8] = [0x8A, 0]

    /// What answers the client's first frame: the welcome first unless it went with the `101`, then the pong.
    private var reply: [UInt8] {
        (self.sameSegment ? [] : Self.welcome) + Self.pong
    }
}
