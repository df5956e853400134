import FuzzSupport
import NIOCore
import NIOEmbedded
import NIOWebSocket

@testable import ChatServer

/// Any bytes a client could send after the upgrade, in any chunking, through the server's own frame
/// handlers in the server's order: NIO's decoder and protocol error handler, `WebSocketFrameValidator`,
/// NIO's aggregator. Nothing crashes; every frame the validator passes is masked, has no reserved bit, and
/// comes in a valid order of fragments, a control frame whole and at most 125 bytes, none after the
/// connection was closed; and what reaches the connection handler is whole messages (text, binary or
/// control) of at most `maxFrameBytes`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let channel = EmbeddedChannel()
    // Small, so short inputs reach it; the server's default is 64 KiB.
    let maxFrameBytes = 1024
    try! channel.pipeline.syncOperations.addHandlers([
        ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameBytes)),
        WebSocketProtocolErrorHandler(),
        WebSocketFrameValidator(),
        ValidatedFrames(),
        NIOWebSocketFrameAggregator(
            minNonFinalFragmentSize: 0,
            maxAccumulatedFrameCount: 1024,
            maxAccumulatedFrameSize: maxFrameBytes
        ),
    ])
    for chunk in Chunks(Fuzz.bytes(start, count)) {
        guard channel.isActive else { break }
        var buffer = channel.allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        // A decoding error closes the connection (the protocol error handler answers 1002 first).
        guard (try? channel.writeInbound(buffer)) != nil else { break }
        while let frame = try? channel.readInbound(as: WebSocketFrame.self) {
            check(frame, maxFrameBytes: maxFrameBytes)
        }
    }
    _ = try? channel.finish()
    return 0
}

/// What reaches the connection handler: whole messages within the limit.
private func check(_ frame: WebSocketFrame, maxFrameBytes: Int) {
    Fuzz.require(frame.fin, "a fragment got through: \(frame)")
    Fuzz.require(frame.length <= maxFrameBytes, "\(frame.length) bytes got through")
    switch frame.opcode {
    case .text, .binary, .ping, .pong, .connectionClose:
        break
    default:
        Fuzz.require(false, "opcode \(frame.opcode) got through")
    }
}

/// Checks each frame as the validator lets it through, before the aggregator unmasks and joins fragments.
private final class ValidatedFrames: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    private var inMessage = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        Fuzz.require(context.channel.isActive, "a frame got through after the connection was closed: \(frame)")
        Fuzz.require(frame.maskKey != nil, "an unmasked frame got through: \(frame)")
        Fuzz.require(!frame.rsv1 && !frame.rsv2 && !frame.rsv3, "reserved bits got through: \(frame)")
        switch frame.opcode {
        case .continuation:
            Fuzz.require(self.inMessage, "a continuation without a message got through")
            self.inMessage = !frame.fin
        case .text, .binary:
            Fuzz.require(!self.inMessage, "a message inside a fragmented one got through")
            self.inMessage = !frame.fin
        case .ping, .pong, .connectionClose:
            Fuzz.require(frame.fin && frame.length <= 125, "a control frame of \(frame.length) bytes got through")
        default:
            Fuzz.require(false, "opcode \(frame.opcode) got through the validator")
        }
        context.fireChannelRead(data)
    }
}

@_cdecl("FuzzWebSocketFrames_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
