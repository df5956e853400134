import ChatProtocol
import ChatTransport
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The client side of the WebSocket opening handshake (RFC 6455 §4.1), done by hand.
///
/// NIO's HTTP client upgrade pipeline drops, by default, the WebSocket bytes that arrive in the same read
/// as the `101 Switching Protocols` response (`leftOverBytesStrategy: .dropBytes`, swift-nio#741) —
/// which is exactly what a chat server does when it sends its welcome right away (seen here as clients
/// hanging before the welcome). This handler reads the response head itself and hands whatever follows
/// it to the frame decoder, so no byte is lost. `NIOUpgraderTests` pins both: NIO 2.101 drops them by
/// default and forwards them with `.forwardBytes`.
final class WebSocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How the handshake ended.
    enum Outcome {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused(status: Int, body: String)
    }

    /// A handshake that went wrong before any answer could be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The connection closed or was reset before the server answered (a server restarting, a load
        /// balancer without a backend): a lost connection like any other, worth a retry.
        var closedEarly = false

        /// The connection ended (EOF) before the `101`.
        static let closed = Failure(
            description: "the server closed the connection before the WebSocket handshake finished",
            closedEarly: true
        )

        /// A read or write failed (reset, broken pipe) before the `101`.
        static func lost(_ error: any Error) -> Failure {
            let reason =
                NetworkErrorText.isReset(error)
                ? "the connection was reset before the WebSocket handshake finished"
                : "the connection failed before the WebSocket handshake finished: \(NetworkErrorText.describe(error))"
            return Failure(description: reason, closedEarly: true)
        }
    }

    private static let maxHeadBytes = 16 * 1024
    private let request: HTTPRequestHead
    private let upgrader: NIOTypedWebSocketClientUpgrader<Void>
    private let maxFrameBytes: Int
    private let promise: EventLoopPromise<Outcome>
    private var buffer = ByteBuffer()
    private var refusal: (status: Int, contentLength: Int?)?
    private var done = false
    private var writeError: (any Error)?

    /// The outcome, once the server has answered.
    var outcome: EventLoopFuture<Outcome> { self.promise.futureResult }

    /// - Parameter key: The `Sec-WebSocket-Key`; a fresh random one but in tests.
    init(
        request: HTTPRequestHead,
        maxFrameBytes: Int,
        eventLoop: any EventLoop,
        key: String = NIOWebSocketClientUpgrader.randomRequestKey()
    ) {
        var request = request
        request.headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        request.headers.replaceOrAdd(name: "Connection", value: "Upgrade")
        request.headers.replaceOrAdd(name: "Sec-WebSocket-Key", value: key)
        request.headers.replaceOrAdd(name: "Sec-WebSocket-Version", value: "13")
        self.request = request
        // Used only to check the server's Sec-WebSocket-Accept against our key.
        self.upgrader = NIOTypedWebSocketClientUpgrader(
            requestKey: key,
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeSucceededVoidFuture()
            }
        )
        self.maxFrameBytes = maxFrameBytes
        self.promise = eventLoop.makePromise(of: Outcome.self)
    }

    func channelActive(context: ChannelHandlerContext) {
        var bytes = context.channel.allocator.buffer(capacity: 256)
        bytes.writeString("GET \(self.request.uri) HTTP/1.1\r\n")
        for (name, value) in self.request.headers {
            bytes.writeString("\(name): \(value)\r\n")
        }
        bytes.writeString("\r\n")
        // A reset can end the connection through the failed write rather than a read: the reason is kept
        // for `channelInactive`, which then reports a reset rather than a plain close.
        context.writeAndFlush(Self.wrapOutboundOut(bytes)).assumeIsolated().whenFailure { error in
            self.writeError = error
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.done else { return context.fireChannelRead(data) }
        var chunk = Self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&chunk)
        if let refusal = self.refusal {
            self.finishRefusalIfComplete(context: context, refusal)
            return
        }
        guard let headEnd = self.buffer.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if self.buffer.readableBytes > Self.maxHeadBytes {
                self.fail(context: context, "the server's response headers are too large")
            }
            return
        }
        let headLength = headEnd.upperBound - self.buffer.readerIndex
        guard let headText = self.buffer.readString(length: headLength), let head = Self.parse(headText) else {
            self.fail(context: context, "the server did not answer with HTTP")
            return
        }
        if head.status == .switchingProtocols {
            self.upgrade(context: context, head: head)
        } else {
            let contentLength = head.headers.first(name: "Content-Length").flatMap { Int($0) }
            self.refusal = (Int(head.status.code), contentLength)
            self.finishRefusalIfComplete(context: context, self.refusal!)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let refusal = self.refusal {
            self.completeRefusal(context: context, status: refusal.status)
        } else if !self.done {
            self.done = true
            self.promise.fail(self.writeError.map(Failure.lost) ?? Failure.closed)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A connection that failed before the handshake (refused, timed out) still answers the promise.
        if !self.done {
            self.done = true
            self.promise.fail(Failure.closed)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !self.done {
            self.done = true
            // A socket error before the answer is the network's doing, not the server's protocol; TLS
            // errors keep their own type for the connector to explain.
            self.promise.fail(error is IOError || error is ChannelError ? Failure.lost(error) : error)
            context.close(promise: nil)
        }
    }

    private func upgrade(context: ChannelHandlerContext, head: HTTPResponseHead) {
        guard self.upgrader.shouldAllowUpgrade(upgradeResponse: head) else {
            self.fail(context: context, "the server's WebSocket handshake answer is invalid")
            return
        }
        do {
            let pipeline = context.pipeline.syncOperations
            let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: self.maxFrameBytes))
            try pipeline.addHandler(decoder, position: .after(self))
            try pipeline.addHandler(WebSocketFrameEncoder(), position: .after(decoder))
            try pipeline.addHandler(WebSocketProtocolErrorHandler(isServer: false))
            try pipeline.addHandler(
                NIOWebSocketFrameAggregator(
                    minNonFinalFragmentSize: 0,
                    maxAccumulatedFrameCount: 4096,
                    maxAccumulatedFrameSize: self.maxFrameBytes
                )
            )
            let channel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                wrappingChannelSynchronously: context.channel
            )
            self.done = true
            // Frames that came with the 101 go to the decoder now that it is in place.
            if self.buffer.readableBytes > 0 {
                context.fireChannelRead(Self.wrapInboundOut(self.buffer))
                self.buffer = ByteBuffer()
            }
            self.promise.succeed(.upgraded(channel))
            pipeline.removeHandler(self, promise: nil)
        } catch {
            self.fail(context: context, "cannot set up the WebSocket pipeline: \(error)")
        }
    }

    private func finishRefusalIfComplete(context: ChannelHandlerContext, _ refusal: (status: Int, contentLength: Int?))
    {
        // Enough of the body to explain the refusal; the rest is not worth waiting for.
        let wanted = min(refusal.contentLength ?? 512, 512)
        if self.buffer.readableBytes >= wanted {
            self.completeRefusal(context: context, status: refusal.status)
        }
    }

    private func completeRefusal(context: ChannelHandlerContext, status: Int) {
        guard !self.done else { return }
        self.done = true
        let body = self.buffer.readString(length: min(self.buffer.readableBytes, 512)) ?? ""
        let firstLine = body.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        self.promise.succeed(.refused(status: status, body: firstLine))
        context.close(promise: nil)
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        guard !self.done else { return }
        self.done = true
        self.promise.fail(Failure(description: reason))
        context.close(promise: nil)
    }

    /// Parses `HTTP/1.1 CODE REASON` and the header lines of a response head.
    private static func parse(_ text: String) -> HTTPResponseHead? {
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let code = Int(statusLine[1]) else {
            return nil
        }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingCharacters(in: " \t")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            headers.add(name: name, value: value)
        }
        return HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(self.drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}
