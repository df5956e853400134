import NIOCore
import Synchronization

/// One benchmark WebSocket connection: the upgrade, then frames parsed straight from the read buffers.
///
/// A load generator must not be the bottleneck, so this is not the engine's client: no frame objects, no
/// JSON decode, no task per connection. Received frames are scanned for the marker (`BenchMarker`);
/// a publisher also sends, either paced by a timer or keeping a window of messages in flight.
final class BenchConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Failure: Error, CustomStringConvertible {
        case refused(String)
        case closedDuringHandshake

        var description: String {
            switch self {
            case .refused(let status): "the server refused the WebSocket upgrade: \(status)"
            case .closedDuringHandshake: "the server closed the connection during the WebSocket upgrade"
            }
        }
    }

    private let request: ByteBuffer
    private let stats: LoopStats
    /// The loop's figures, taken once (the connection lives on that loop).
    private let figures: LoopStats.Figures
    /// Succeeds once the server answered `101 Switching Protocols`.
    let opened: EventLoopPromise<Void>
    private var handshaking = true
    /// Bytes of a frame (or the response head) that is not complete yet.
    private var carry: ByteBuffer?
    private var context: ChannelHandlerContext?

    // Publishing (only publishers get a `publisher` index).
    private let publisher: Int?
    private let frame: [UInt8]
    private let markerOffset: Int
    private(set) var sent = 0
    private var outstanding = 0
    private var window = 0
    private var publishing = false
    private var interval: UInt64 = 0
    private var startedAt: UInt64 = 0
    private var timer: Scheduled<Void>?

    init(host: String, port: Int, path: String, publisher: Int?, size: Int, stats: LoopStats, eventLoop: any EventLoop)
    {
        var request = ByteBuffer()
        request.writeString(
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.request = request
        self.stats = stats
        self.figures = stats.figures
        self.publisher = publisher
        self.opened = eventLoop.makePromise()
        (self.frame, self.markerOffset) = Self.frameTemplate(size: size)
    }

    /// A masked text frame carrying chat's `message` object: `{"type":"message","text":"~b…xxxx"}`.
    ///
    /// The mask key is zero — RFC 6455 requires a key, not a particular one — so the payload needs no
    /// XOR and every frame is the template with the marker written in.
    private static func frameTemplate(size: Int) -> ([UInt8], Int) {
        let prefix = Array(#"{"type":"message","text":""#.utf8)
        let suffix = Array(#""}"#.utf8)
        let text = [UInt8](repeating: UInt8(ascii: "x"), count: max(size, BenchMarker.length))
        let payloadLength = prefix.count + text.count + suffix.count
        var frame: [UInt8] = [0x81]
        if payloadLength < 126 {
            frame.append(0x80 | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payloadLength >> shift) & 0xFF)) }
        }
        frame += [0, 0, 0, 0]
        let markerOffset = frame.count + prefix.count
        frame += prefix + text + suffix
        return (frame, markerOffset)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(self.request), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stopPublishing()
        if self.handshaking {
            self.opened.fail(Failure.closedDuringHandshake)
        } else {
            self.figures.closed += 1
        }
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.handshaking { self.opened.fail(error) }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        if var carry = self.carry {
            self.carry = nil
            carry.writeBuffer(&buffer)
            buffer = carry
        }
        if self.handshaking {
            guard self.readResponseHead(&buffer, context: context) else { return }
        }
        self.readFrames(&buffer, context: context)
        if buffer.readableBytes > 0 { self.carry = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.publishing && self.window > 0 { self.topUp(context: context) }
    }

    /// Consumes the `101` response head; false while it is incomplete (or refused).
    private func readResponseHead(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) -> Bool {
        let view = buffer.readableBytesView
        guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
            self.carry = buffer
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return false
        }
        let length = view.distance(from: view.startIndex, to: end.upperBound)
        let head = buffer.readString(length: length) ?? ""
        // "\r\n" is one Character in Swift: split on it, not on "\r".
        let status = head.split(separator: "\r\n").first ?? ""
        guard status.hasPrefix("HTTP/1.1 101") else {
            self.handshaking = false
            self.opened.fail(Failure.refused(String(status)))
            context.close(promise: nil)
            return false
        }
        self.handshaking = false
        self.opened.succeed()
        return true
    }

    private func readFrames(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        let now = NIODeadline.now().uptimeNanoseconds
        while buffer.readableBytes >= 2 {
            let start = buffer.readerIndex
            let first = buffer.getInteger(at: start, as: UInt8.self)!
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)!
            var headerLength = 2
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return }
                length = Int(extended)
                headerLength = 4
            } else if length == 127 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return }
                length = Int(extended)
                headerLength = 10
            }
            if second & 0x80 != 0 { headerLength += 4 }  // servers do not mask, but tolerate it
            guard buffer.readableBytes >= headerLength + length else { return }
            let payloadStart = start + headerLength
            switch first & 0x0F {
            case 0x1, 0x0:
                let marker = buffer.withUnsafeReadableBytes { bytes in
                    BenchMarker.find(
                        in: UnsafeRawBufferPointer(rebasing: bytes[headerLength..<(headerLength + length)])
                    )
                }
                if let marker {
                    self.figures.record(sentAt: marker.sentAt, now: now)
                    self.stats.received.add(1, ordering: .relaxed)
                    if marker.publisher == self.publisher { self.outstanding -= 1 }
                }
            case 0x9:
                self.writeControl(
                    opcode: 0xA,
                    payload: buffer.getSlice(at: payloadStart, length: length)!,
                    context: context
                )
            case 0xA:
                self.figures.pongs += 1
            case 0x8:
                context.close(promise: nil)
            default:
                break
            }
            buffer.moveReaderIndex(forwardBy: headerLength + length)
        }
    }

    private func writeControl(opcode: UInt8, payload: ByteBuffer, context: ChannelHandlerContext) {
        var frame = context.channel.allocator.buffer(capacity: 6 + payload.readableBytes)
        frame.writeInteger(0x80 | opcode)
        frame.writeInteger(0x80 | UInt8(min(payload.readableBytes, 125)))
        frame.writeInteger(UInt32(0))
        frame.writeImmutableBuffer(payload)
        context.writeAndFlush(self.wrapOutboundOut(frame), promise: nil)
    }

    /// Sends a ping; the pong is counted in the loop's stats.
    func ping() {
        guard let context = self.context else { return }
        self.writeControl(opcode: 0x9, payload: ByteBuffer(string: "bench"), context: context)
    }

    /// Starts sending: `perSecond` messages a second on a timer, or (0) as fast as `window` allows.
    func startPublishing(perSecond: Double, window: Int, at start: UInt64) {
        guard let context = self.context, self.publisher != nil else { return }
        self.publishing = true
        self.startedAt = start
        if window > 0 {
            self.window = window
            self.topUp(context: context)
        } else {
            self.interval = UInt64(1e9 / perSecond)
            self.tick()
        }
    }

    func stopPublishing() {
        self.publishing = false
        self.timer?.cancel()
        self.timer = nil
    }

    /// Sends every message due by now (catching up after a late wake-up), then sleeps until the next one.
    private func tick() {
        guard self.publishing, let context = self.context else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let due = Int((now - self.startedAt) / self.interval) + 1
        if due > self.sent { self.send(due - self.sent, context: context) }
        let next = self.startedAt + UInt64(self.sent) * self.interval
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(next)) {
            connection.value.tick()
        }
    }

    private func topUp(context: ChannelHandlerContext) {
        let room = self.window - self.outstanding
        guard room > 0 else { return }
        self.send(room, context: context)
    }

    /// Writes `count` messages in one buffer, one flush.
    private func send(_ count: Int, context: ChannelHandlerContext) {
        let now = NIODeadline.now().uptimeNanoseconds
        var buffer = context.channel.allocator.buffer(capacity: count * self.frame.count)
        var marker = [UInt8](repeating: 0, count: BenchMarker.length)
        marker.withUnsafeMutableBytes { bytes in
            BenchMarker.write(publisher: self.publisher ?? 0, sentAt: now, into: bytes, at: 0)
        }
        for _ in 0..<count {
            let start = buffer.writerIndex
            buffer.writeBytes(self.frame)
            buffer.setBytes(marker, at: start + self.markerOffset)
        }
        self.sent += count
        self.outstanding += count
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }
}
