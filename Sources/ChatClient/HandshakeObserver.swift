import ChatProtocol
import ChatTransport
import NIOCore

/// What NIO's client upgrade handler does not tell (swift-nio#3274: a refused upgrade's response head is
/// not handed on): when the server refuses the upgrade, its status and the first line of its body; when
/// the connection ends before any answer, whether it was closed or reset. It watches the bytes below the
/// HTTP decoder, hands every one on unchanged, and leaves once the connection is upgraded.
final class HandshakeObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

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

    /// The server's answer when it is not a `101`: its status and the first line of its body.
    struct Refusal {
        var status: Int
        var body: String
    }

    /// How much of a refusal's body explains it; the rest is not worth waiting for.
    private static let bodyBytes = 512
    private static let maxHeadBytes = 16 * 1024

    private var response = ByteBuffer()
    private var ended = false
    private var networkError: (any Error)?
    private var waiting: EventLoopPromise<Refusal>?

    /// Why the connection ended before an answer: reset (a failed read or write), or closed.
    var failure: Failure {
        self.networkError.map(Failure.lost) ?? .closed
    }

    /// The refusal, once enough of its body is in (or the connection ended).
    func refusal(on eventLoop: any EventLoop) -> EventLoopFuture<Refusal> {
        if let refusal = self.completeRefusal() { return eventLoop.makeSucceededFuture(refusal) }
        let promise = eventLoop.makePromise(of: Refusal.self)
        self.waiting = promise
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        if self.response.readableBytes < Self.maxHeadBytes + Self.bodyBytes {
            self.response.writeBuffer(&bytes)
            self.answerWaiting()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A reset can end the connection through the failed write rather than a read: the reason is kept,
        // so the failure says reset rather than a plain close.
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenFailure { error in
            if self.networkError == nil { self.networkError = error }
        }
        context.write(data, promise: written)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.networkError == nil, error is IOError || error is ChannelError { self.networkError = error }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.ended = true
        self.answerWaiting()
        context.fireChannelInactive()
    }

    private func answerWaiting() {
        guard let waiting = self.waiting, let refusal = self.completeRefusal() else { return }
        self.waiting = nil
        waiting.succeed(refusal)
    }

    /// The refusal once its head and enough of its body are in, or the connection ended.
    private func completeRefusal() -> Refusal? {
        let view = self.response.readableBytesView
        guard let headEnd = view.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: view[..<headEnd.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusLine = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        let status = statusLine.count >= 2 ? Int(statusLine[1]) ?? 0 : 0
        let length = lines.dropFirst().lazy.compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].drop(while: { $0 == " " || $0 == "\t" }).prefix(while: { $0 != " " && $0 != "\t" }))
        }.first
        let body = view[headEnd.upperBound...]
        guard self.ended || body.count >= min(length ?? Self.bodyBytes, Self.bodyBytes) else { return nil }
        let text = String(decoding: body.prefix(Self.bodyBytes), as: UTF8.self)
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return Refusal(status: status, body: firstLine)
    }
}
