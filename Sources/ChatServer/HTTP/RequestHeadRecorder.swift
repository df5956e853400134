import NIOCore
import NIOHTTP1

/// Remembers the head of the request that reached the upgrade handler.
///
/// When a WebSocket upgrader refuses a request (`shouldUpgrade` answers nil), NIO's typed upgrade
/// handler hands the connection to the not-upgrading path without the request head, so the server
/// could not tell which path or parameters to explain in its HTTP error. This handler sits just before
/// the upgrade handler and keeps the head for that case.
final class RequestHeadRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// The head of the first request on the connection.
    private(set) var head: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.head == nil, case .head(let head) = Self.unwrapInboundIn(data) {
            self.head = head
        }
        context.fireChannelRead(data)
    }
}
