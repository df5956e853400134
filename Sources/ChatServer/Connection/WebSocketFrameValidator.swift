import ChatProtocol
import NIOCore
import NIOWebSocket

/// The RFC 6455 rules SwiftNIO's frame decoder leaves to the application, checked on every frame a client
/// sends before anything else sees it: a violation closes the connection with 1002 (protocol error), or
/// 1007 for a close reason that is not UTF-8.
///
/// It sits before `NIOWebSocketFrameAggregator`, so it sees fragments as they come.
final class WebSocketFrameValidator: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Whether a fragmented text or binary message has started and not finished.
    private var inMessage = false
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        let frame = Self.unwrapInboundIn(data)
        if let (code, reason) = self.violation(frame) {
            self.fail(context: context, code: code, reason: reason)
            return
        }
        context.fireChannelRead(data)
    }

    private func violation(_ frame: WebSocketFrame) -> (WebSocketErrorCode, String)? {
        // No extension is ever negotiated, so no reserved bit may be set (§5.2).
        if frame.rsv1 || frame.rsv2 || frame.rsv3 { return (.protocolError, "reserved bits set") }
        // §5.1: a server MUST close the connection upon receiving a frame that is not masked.
        if frame.maskKey == nil { return (.protocolError, "client frames must be masked") }
        switch frame.opcode {
        case .continuation:
            guard self.inMessage else { return (.protocolError, "continuation without a message") }
            self.inMessage = !frame.fin
        case .text, .binary:
            guard !self.inMessage else { return (.protocolError, "a new message inside a fragmented one") }
            self.inMessage = !frame.fin
        case .connectionClose, .ping, .pong:
            // §5.5: control frames are never fragmented and carry at most 125 bytes.
            guard frame.fin else { return (.protocolError, "fragmented control frame") }
            guard frame.length <= 125 else { return (.protocolError, "control frame over 125 bytes") }
            if frame.opcode == .connectionClose { return Self.closeViolation(frame.unmaskedData) }
        default:
            return (.protocolError, "unknown opcode")
        }
        return nil
    }

    /// §5.5.1 and §7.4: a close body is empty, or a valid code and a UTF-8 reason.
    private static func closeViolation(_ body: ByteBuffer) -> (WebSocketErrorCode, String)? {
        var body = body
        guard body.readableBytes != 0 else { return nil }
        guard let code = body.readInteger(as: UInt16.self) else { return (.protocolError, "close body of 1 byte") }
        guard Self.isValidCloseCode(code) else { return (.protocolError, "invalid close code \(code)") }
        guard String(validating: body.readableBytesView, as: UTF8.self) != nil else {
            return (.dataInconsistentWithMessage, "close reason is not UTF-8")
        }
        return nil
    }

    /// The codes a peer may send: the defined ones (not 1004, 1005, 1006, 1015, which never go on the
    /// wire), and 3000–4999 for libraries and applications.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014: true
        case 3000...4999: true
        default: false
        }
    }

    private func fail(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String) {
        self.failed = true
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(close)).whenComplete { _ in channel.close(promise: nil) }
    }
}
