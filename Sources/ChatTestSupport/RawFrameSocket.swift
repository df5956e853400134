import Foundation
import NIOCore

/// A WebSocket client that writes frames exactly as told — unmasked, with reserved bits set, oversized or
/// fragmented control frames — to test the server against RFC 6455's MUSTs. It reads the server's frames
/// back as opcode and payload.
public final class RawFrameSocket {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var buffer = ByteBuffer()

    init(
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) {
        self.outbound = outbound
        self.inbound = inbound
    }

    /// Writes one frame. `opcode` is the raw 4-bit value; `rsv` the three reserved bits (0…7).
    public func send(
        opcode: UInt8,
        _ payload: [UInt8],
        fin: Bool = true,
        masked: Bool = true,
        rsv: UInt8 = 0
    )
        async throws
    {
        var frame = ByteBuffer()
        frame.writeInteger(UInt8((fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0x0F)))
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126: frame.writeInteger(maskBit | UInt8(payload.count))
        case ..<65536:
            frame.writeInteger(maskBit | 126)
            frame.writeInteger(UInt16(payload.count))
        default:
            frame.writeInteger(maskBit | 127)
            frame.writeInteger(UInt64(payload.count))
        }
        if masked {
            let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
            frame.writeBytes(key)
            frame.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset % 4] })
        } else {
            frame.writeBytes(payload)
        }
        try await self.outbound.write(frame)
    }

    /// The next frame from the server, or nil once the connection is closed.
    public func nextFrame() async throws -> (opcode: UInt8, payload: [UInt8])? {
        while true {
            if let frame = self.parse() { return frame }
            guard var chunk = try await self.inbound.next() else { return nil }
            self.buffer.writeBuffer(&chunk)
        }
    }

    /// The code of the server's close frame (nil if the connection ended without one).
    public func nextCloseCode() async throws -> UInt16? {
        while let frame = try await self.nextFrame() {
            if frame.opcode == 0x8 {
                return frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : nil
            }
        }
        return nil
    }

    private func parse() -> (opcode: UInt8, payload: [UInt8])? {
        var view = self.buffer
        guard let first = view.readInteger(as: UInt8.self), let second = view.readInteger(as: UInt8.self) else {
            return nil
        }
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = view.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        } else if length == 127 {
            guard let extended = view.readInteger(as: UInt64.self) else { return nil }
            length = Int(extended)
        }
        guard let payload = view.readBytes(length: length) else { return nil }
        self.buffer = view
        return (first & 0x0F, payload)
    }
}

/// A WebSocket upgrade request for `path` on 127.0.0.1, written by hand (RFC 6455's sample key).
public func rawUpgradeRequest(path: String) -> String {
    "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

/// Opens a WebSocket to `path` on 127.0.0.1:`port` by hand and runs `body` with it.
public func withRawFrameSocket<T: Sendable>(
    port: Int,
    path: String,
    _ body: (RawFrameSocket) async throws -> T
) async throws -> T {
    let channel = try await rawTCPConnection(port: port)
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: rawUpgradeRequest(path: path)))
        var iterator = inbound.makeAsyncIterator()
        var received = ByteBuffer()
        while true {
            let text = String(buffer: received)
            if let end = text.range(of: "\r\n\r\n") {
                guard text.hasPrefix("HTTP/1.1 101") else {
                    throw TestServerError(description: "no upgrade: \(text[..<end.lowerBound])")
                }
                received.moveReaderIndex(forwardBy: text.utf8.distance(from: text.startIndex, to: end.upperBound))
                break
            }
            guard var chunk = try await iterator.next() else {
                throw TestServerError(description: "closed during the upgrade")
            }
            received.writeBuffer(&chunk)
        }
        let socket = RawFrameSocket(outbound: outbound, inbound: iterator)
        var leftover = received
        socket.prepend(&leftover)
        return try await body(socket)
    }
}

extension RawFrameSocket {
    fileprivate func prepend(_ bytes: inout ByteBuffer) {
        self.buffer.writeBuffer(&bytes)
    }
}
