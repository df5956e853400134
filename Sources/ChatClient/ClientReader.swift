import ChatProtocol
import ChatTransport
package import NIOCore
package import NIOWebSocket

/// The client's side of a WebSocket connection below the chat protocol: reads frames until the connection
/// ends, answers pings, does the close handshake (`ConnectionStateMachine`) and hands on whole messages.
/// `ChatClient` decodes the text ones as server frames; `AutobahnTestee` echoes them, so the conformance
/// suite tests exactly the engine `tail` and `send` use.
package enum ClientReader {
    /// One whole message from the server (fragments joined by NIO's aggregator).
    package enum Message: Sendable {
        /// A text message, valid UTF-8.
        case text(ByteBuffer)
        case binary(ByteBuffer)
    }

    /// Reads until the connection ends, giving each message to `onMessage` in order.
    ///
    /// Returns when this side closed and the server answered. Throws `ChatClientError.closedByServer`
    /// when the server closed, `.protocolViolation` for a text message that is not UTF-8 (after closing
    /// with 1007, RFC 6455 §8.1), `.connectionLost` when the connection ended otherwise — and whatever
    /// `onMessage` throws.
    package static func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        lifecycle: ClientLifecycle,
        onMessage: (Message) async throws -> Void
    ) async throws {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary:
                    guard lifecycle.withMachine({ $0.receivedData(frame) }) == .deliver else { continue }
                    let data = frame.unmaskedData
                    guard frame.opcode == .text else {
                        try await onMessage(.binary(data))
                        continue
                    }
                    guard String(validating: data.readableBytesView, as: UTF8.self) != nil else {
                        await Self.close(.dataInconsistentWithMessage, outbound: outbound, lifecycle: lifecycle)
                        throw ChatClientError.protocolViolation("the server sent a text message that is not UTF-8")
                    }
                    try await onMessage(.text(data))
                case .ping:
                    guard lifecycle.withMachine({ $0.receivedPing() }) == .sendPong else { continue }
                    try await outbound.write(
                        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                    )
                case .connectionClose:
                    var data = frame.unmaskedData
                    let code = data.readWebSocketErrorCode()
                    let reason = data.readString(length: data.readableBytes) ?? ""
                    guard case .echoCloseAndFinish(let reply) = lifecycle.withMachine({ $0.receivedClose(code: code) })
                    else {
                        // The server answered the close this side started.
                        return
                    }
                    // Answer the server's close with its code, unless that code may not be sent (RFC 6455 §7.4).
                    var body = ByteBuffer()
                    if let reply { body.write(webSocketErrorCode: reply) }
                    try? await outbound.write(
                        WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: body)
                    )
                    throw ChatClientError.closedByServer(
                        code: code.map { Int(UInt16(webSocketErrorCode: $0)) } ?? 1005,
                        reason: TerminalSanitizer.sanitize(reason)
                    )
                default:
                    continue
                }
            }
        } catch let error as ChatClientError {
            throw error
        } catch {
            throw ChatClientError.connectionLost("\(error)")
        }
        if !lifecycle.withMachine({ $0.sentClose }) { throw ChatClientError.connectionLost("the server went away") }
    }

    /// Starts the close handshake with `code`, unless it was started already.
    private static func close(
        _ code: WebSocketErrorCode,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        lifecycle: ClientLifecycle
    ) async {
        guard case .sendClose(let code, _) = lifecycle.withMachine({ $0.closeRequested(code) }) else { return }
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data))
    }
}
