import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One upgraded WebSocket connection on the server: its outbox, its lifecycle and its three tasks.
///
/// The reader handles what the client sends, the writer drains the outbox, the pinger notices peers
/// that vanished. Everything the connection sends goes through the outbox, so frames never interleave.
final class ServerConnection: Sendable {
    private enum Role {
        case reader, writer, pingerStopped, pingerGaveUp, watchdogStopped, deadline
    }

    private let outbox: Outbox
    private let machine = Mutex(ConnectionStateMachine())
    private let channel: any Channel
    private let configuration: ServerConfiguration
    private let closeCode = Mutex<WebSocketErrorCode?>(nil)

    /// Called when this connection is closed for not reading (for the metrics).
    private let onSlowConsumer: @Sendable () -> Void

    init(channel: any Channel, configuration: ServerConfiguration, onSlowConsumer: @escaping @Sendable () -> Void = {})
    {
        self.channel = channel
        self.configuration = configuration
        self.onSlowConsumer = onSlowConsumer
        self.outbox = Outbox(limit: configuration.outboundQueueBytes)
    }

    /// Queues an encoded server frame; a client too far behind is closed instead (1008, "slow consumer").
    func send(_ payload: ByteBuffer, opcode: WebSocketOpcode = .text) {
        if !self.outbox.enqueue(WebSocketFrame(fin: true, opcode: opcode, data: payload)) {
            self.requestClose(.policyViolation, reason: "slow consumer", dropPending: true)
            self.onSlowConsumer()
        }
    }

    /// Starts the close handshake with `code`, after what is already queued.
    func requestClose(_ code: WebSocketErrorCode, reason: String = "", dropPending: Bool = false) {
        guard case .sendClose(let code) = self.machine.withLock({ $0.closeRequested(code) }) else { return }
        self.closeCode.withLock { $0 = code }
        self.outbox.close(Self.closeFrame(code, reason: reason), dropPending: dropPending)
        // A peer that does not read (the usual reason to close it) never lets our close frame out, and
        // never answers it: after the close timeout the TCP connection is closed regardless.
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: TimeAmount(self.configuration.closeTimeout)) { channel.close(promise: nil) }
    }

    /// The close code this side sent or echoed, once there is one.
    var sentCloseCode: WebSocketErrorCode? { self.closeCode.withLock { $0 } }

    /// Serves the connection until the close handshake is done, the peer is gone, or a timeout passes.
    func run(
        inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        onText: @escaping @Sendable (ByteBuffer) -> Void,
        onBinary: (@Sendable (ByteBuffer) -> Void)? = nil,
        logger: Logger
    ) async {
        await withTaskGroup(of: Role.self) { group in
            group.addTask {
                await self.read(inbound, onText: onText, onBinary: onBinary, logger: logger)
                return .reader
            }
            group.addTask {
                await self.write(outbound, logger: logger)
                return .writer
            }
            group.addTask { await self.ping() }
            group.addTask {
                await self.watchForStalls(logger: logger)
                return .watchdogStopped
            }

            var readerDone = false
            var writerDone = false
            var deadlineSet = false
            while let role = await group.next() {
                switch role {
                case .reader:
                    readerDone = true
                    // The writer still sends what is queued (an echoed close, say), then stops.
                    self.outbox.finish()
                case .writer:
                    writerDone = true
                case .pingerStopped, .watchdogStopped:
                    continue
                case .pingerGaveUp:
                    logger.info("client stopped answering pings; dropping it")
                    group.cancelAll()
                    return
                case .deadline:
                    group.cancelAll()
                    return
                }
                if readerDone && writerDone {
                    group.cancelAll()
                    return
                }
                // One side is done: the other gets a bounded time (the peer's close reply, a last flush).
                if !deadlineSet {
                    deadlineSet = true
                    let timeout = self.configuration.closeTimeout
                    group.addTask {
                        try? await Task.sleep(for: timeout)
                        return .deadline
                    }
                }
            }
        }
        self.machine.withLock { $0.channelClosed() }
    }

    private func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        onText: @Sendable (ByteBuffer) -> Void,
        onBinary: (@Sendable (ByteBuffer) -> Void)?,
        logger: Logger
    ) async {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text:
                    guard self.machine.withLock({ $0.receivedData() }) == .deliver else { continue }
                    onText(frame.unmaskedData)
                case .binary:
                    guard self.machine.withLock({ $0.receivedData() }) == .deliver else { continue }
                    if let onBinary {
                        onBinary(frame.unmaskedData)
                        continue
                    }
                    let error = ServerError(
                        code: ChatErrorCode.unsupported,
                        message: "binary frames are not supported; send text"
                    )
                    self.send(ServerFrame.error(error).encode())
                case .ping:
                    guard self.machine.withLock({ $0.receivedPing() }) == .sendPong else { continue }
                    _ = self.outbox.enqueue(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .pong:
                    _ = self.machine.withLock { $0.receivedPong() }
                case .connectionClose:
                    var data = frame.unmaskedData
                    let code = data.readWebSocketErrorCode()
                    if case .echoCloseAndFinish(let reply) = self.machine.withLock({ $0.receivedClose(code: code) }) {
                        self.closeCode.withLock { $0 = reply ?? .normalClosure }
                        self.outbox.close(Self.closeFrame(reply, reason: ""), dropPending: true)
                    }
                    return
                default:
                    self.requestClose(.protocolError, reason: "unexpected opcode")
                }
            }
        } catch let error as NIOWebSocketFrameAggregator.Error {
            logger.debug("fragmented message rejected", metadata: ["chat.error": "\(error)"])
            self.requestClose(.messageTooLarge, reason: "message too large", dropPending: true)
        } catch {
            // Decoder errors were answered with a close frame by NIO's protocol error handler already.
            logger.debug("read failed", metadata: ["chat.error": "\(error)"])
        }
    }

    private func write(_ outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>, logger: Logger) async {
        do {
            while let batch = await self.outbox.next() {
                if !batch.frames.isEmpty {
                    try await outbound.write(contentsOf: batch.frames)
                }
                self.outbox.wrote()
                if let close = batch.close {
                    try await outbound.write(close)
                    return
                }
            }
        } catch {
            logger.debug("write failed", metadata: ["chat.error": "\(error)"])
            self.channel.close(promise: nil)
        }
    }

    private func ping() async -> Role {
        while true {
            do {
                try await Task.sleep(for: self.configuration.pingInterval)
                guard self.machine.withLock({ $0.pingTimerFired() }) == .sendPing else { return .pingerStopped }
                _ = self.outbox.enqueue(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "chat")))
                try await Task.sleep(for: self.configuration.pongTimeout)
            } catch {
                return .pingerStopped
            }
            if self.machine.withLock({ $0.pongDeadlinePassed() }) == .dropUnresponsive { return .pingerGaveUp }
        }
    }

    /// Closes a client whose writes have not made progress for `slowConsumerTimeout`: it stopped reading.
    /// A reader that keeps reading, however slowly, is never closed by this — only a stalled one.
    private func watchForStalls(logger: Logger) async {
        let timeout = self.configuration.slowConsumerTimeout
        while self.machine.withLock({ $0.isOpen }) {
            do {
                try await Task.sleep(for: timeout / 4)
            } catch {
                return
            }
            if let stalled = self.outbox.stalled(now: .now), stalled >= timeout {
                logger.info("client stopped reading; closing it", metadata: ["chat.stalled": "\(stalled)"])
                self.requestClose(.policyViolation, reason: "slow consumer", dropPending: true)
                self.onSlowConsumer()
                return
            }
        }
    }

    /// A close frame with a code (or an empty body) and a short UTF-8 reason.
    static func closeFrame(_ code: WebSocketErrorCode?, reason: String) -> WebSocketFrame {
        var data = ByteBuffer()
        if let code {
            data.write(webSocketErrorCode: code)
            data.writeString(String(reason.utf8.prefix(120)) ?? "")
        }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}
