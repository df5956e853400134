import ChatClient
public import ChatProtocol
import Foundation
public import NIOCore
import NIOPosix
public import NIOWebSocket

/// A WebSocket client that sends exactly the frames a test asks for — including ones a correct client
/// never would — and reads raw frames back.
public final class RawWebSocket {
    private var inbound: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>

    init(inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>)
    {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Sends one frame, masked as a client must.
    public func send(_ opcode: WebSocketOpcode, _ data: ByteBuffer, fin: Bool = true) async throws {
        try await self.outbound.write(WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: data))
    }

    /// Sends a text frame.
    public func sendText(_ text: String) async throws {
        try await self.send(.text, ByteBuffer(string: text))
    }

    /// Sends text frames with one flush, so they reach the server together (in as few reads as fit).
    public func sendTexts(_ texts: [String]) async throws {
        try await self.outbound.write(
            contentsOf: texts.map {
                WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: $0))
            }
        )
    }

    /// The next frame from the server; nil once the connection is closed.
    public func nextFrame() async throws -> WebSocketFrame? {
        try await self.inbound.next()
    }

    /// The next text frame decoded, skipping control frames; nil once the connection is closed.
    public func nextServerFrame() async throws -> ServerFrame? {
        while let frame = try await self.nextFrame() {
            guard frame.opcode == .text else { continue }
            return try JSONDecoder().decode(ServerFrame.self, from: Data(frame.unmaskedData.readableBytesView))
        }
        return nil
    }

    /// Reads until a close frame arrives and returns its code; nil when the connection ended without one.
    public func nextCloseCode() async throws -> UInt16? {
        while let frame = try await self.nextFrame() {
            guard frame.opcode == .connectionClose else { continue }
            var data = frame.unmaskedData
            return data.readInteger(as: UInt16.self)
        }
        return nil
    }
}

/// Opens a raw WebSocket to `target` on 127.0.0.1:`port` (with a fixed SO_RCVBUF when given), runs `body`,
/// then closes the TCP connection.
public func withRawWebSocket<T: Sendable>(
    port: Int,
    target: String = "/ws",
    receiveBufferSize: Int? = nil,
    _ body: (RawWebSocket) async throws -> T
) async throws -> T {
    let channel = try await WebSocketConnector.connect(
        host: "127.0.0.1",
        port: port,
        target: target,
        receiveBufferSize: receiveBufferSize
    )
    return try await channel.executeThenClose { inbound, outbound in
        try await body(RawWebSocket(inbound: inbound, outbound: outbound))
    }
}

/// A plain TCP connection to 127.0.0.1:`port`, bytes in and out, for requests written by hand.
func rawTCPConnection(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
    try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
}

/// Sends `request` (raw HTTP/1.1 bytes) to 127.0.0.1:`port` and returns everything the server answers
/// until it closes the connection.
public func rawHTTPExchange(port: Int, request: String) async throws -> String {
    let channel = try await rawTCPConnection(port: port)
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: request))
        var response = ByteBuffer()
        for try await var chunk in inbound { response.writeBuffer(&chunk) }
        return String(buffer: response)
    }
}

/// Sends `request` and returns the response head only (up to the blank line), then hangs up — for answers
/// such as `101 Switching Protocols` after which the server keeps the connection open.
public func rawHTTPHead(port: Int, request: String) async throws -> String {
    let channel = try await rawTCPConnection(port: port)
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: request))
        var response = ByteBuffer()
        for try await var chunk in inbound {
            response.writeBuffer(&chunk)
            let text = String(buffer: response)
            if let end = text.range(of: "\r\n\r\n") { return String(text[..<end.lowerBound]) }
        }
        return String(buffer: response)
    }
}

/// The status code of an HTTP response text.
public func httpStatus(_ response: String) -> Int? {
    let parts = response.split(separator: " ", maxSplits: 2)
    return parts.count >= 2 ? Int(parts[1]) : nil
}
