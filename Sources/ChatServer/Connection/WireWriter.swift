import NIOCore

/// Sits next to the head of the pipeline (after TLS) so `ServerConnection` writes encoded frames past
/// NIO's frame encoder.
final class WireWriter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = ByteBuffer

    /// The handler's context, once added.
    var context: ChannelHandlerContext? { self.box.value }
    private let box: NIOLoopBoundBox<ChannelHandlerContext?>

    init(eventLoop: any EventLoop) {
        self.box = NIOLoopBoundBox(nil, eventLoop: eventLoop)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.box.value = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.box.value = nil
    }
}
