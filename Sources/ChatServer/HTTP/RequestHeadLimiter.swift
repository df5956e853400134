import ChatProtocol
import NIOCore

/// Holds every connection's request head to the bounds a browser never comes near, counting while it
/// reads: a huge or endless head costs at most `maxBytes` before it is answered `431` and closed.
///
/// It sits before NIO's HTTP decoder (which alone would buffer 80 KiB of headers, in any number of
/// lines) and leaves the pipeline once the head is complete, so an upgraded connection does not pay for it.
final class RequestHeadLimiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var scanner: RequestHeadScanner
    private let lingerTimeout: TimeAmount
    private var refused = false

    /// - Parameter lingerTimeout: How long the rest of a refused head is read and dropped after the answer.
    init(maxBytes: Int, maxLines: Int, lingerTimeout: TimeAmount = .seconds(2)) {
        self.scanner = RequestHeadScanner(maxBytes: maxBytes, maxLines: maxLines)
        self.lingerTimeout = lingerTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After the answer, what is left of the head is read and dropped: nothing is buffered.
        guard !self.refused else { return }
        let chunk = Self.unwrapInboundIn(data)
        switch chunk.withUnsafeReadableBytes({ self.scanner.scan($0) }) {
        case .incomplete:
            context.fireChannelRead(data)
        case .complete:
            // The chunk goes on whole: whatever follows the head (a body, early WebSocket frames) is the
            // decoder's to read.
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .tooLarge:
            self.refused = true
            self.refuse(context: context)
        }
    }

    private func refuse(context: ChannelHandlerContext) {
        let body = "the request head is over \(self.scanner.maxBytes) bytes or \(self.scanner.maxLines) lines\n"
        let response =
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let channel = context.channel
        // Closing with unread bytes would make the kernel reset the connection, and a client still
        // writing its head could lose the answer with it: half-close instead, drop what still comes
        // (nginx's lingering close), and close for good when the client does or the timeout passes.
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
        context.eventLoop.scheduleTask(in: self.lingerTimeout) { channel.close(promise: nil) }
    }
}
