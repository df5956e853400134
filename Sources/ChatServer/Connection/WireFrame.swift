import ChatProtocol
import NIOCore
import NIOWebSocket

/// A server WebSocket frame as it goes on the wire: header and payload in one buffer.
///
/// Server frames are never masked, so the bytes are the same for every recipient: a broadcast encodes its
/// frame once and every connection writes the same buffer (shared storage, no copy).
enum WireFrame {
    /// `payload` as one final frame with `opcode`.
    static func encode(_ payload: ByteBuffer, opcode: WebSocketOpcode = .text) -> ByteBuffer {
        let length = payload.readableBytes
        var frame = ByteBuffer()
        frame.reserveCapacity(length + 10)
        frame.writeInteger(0x80 | UInt8(webSocketOpcode: opcode))
        if length < 126 {
            frame.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(length))
        } else {
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeImmutableBuffer(payload)
        return frame
    }

    /// A close frame with a code (or an empty body) and a short UTF-8 reason.
    static func close(_ code: WebSocketErrorCode?, reason: String) -> ByteBuffer {
        var data = ByteBuffer()
        if let code {
            data.write(webSocketErrorCode: code)
            data.writeString(String(reason.utf8.prefix(120)) ?? "")
        }
        return Self.encode(data, opcode: .connectionClose)
    }
}
