import ChatProtocol
import NIOCore

/// Answers a connection the server has no room for — `503 Service Unavailable` when it is full, `429 Too
/// Many Requests` when the client's address has too many open — and hangs up.
///
/// It is the whole pipeline of such a connection, so it writes raw HTTP; clients treat both as worth a
/// retry later.
final class OverCapacityResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: String

    init(_ refusal: ChannelRegistry.Refusal) {
        let (status, body) =
            switch refusal {
            case .full: ("503 Service Unavailable", "the server is at its connection limit; try again later\n")
            case .tooManyFromAddress:
                ("429 Too Many Requests", "too many connections from your address; close some or try again later\n")
            }
        self.response =
            "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nRetry-After: 5\r\nConnection: close\r\n\r\n\(body)"
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: self.response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the client sent is not going to be served.
    }
}
