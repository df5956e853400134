import ChatProtocol
import ChatTransport
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One upgraded WebSocket connection on the server, as a channel handler: no task, no stream, no lock.
///
/// What happens to it is decided by its `ConnectionStateMachine`; this type carries out the actions, on
/// the connection's event loop, where all its mutable state lives (`Loop`, behind `NIOLoopBound`, so the
/// compiler and NIO check the claim that other threads never touch it; see ServerConnection+Loop.swift).
/// Other threads queue frames (`send`), ask it to close or to resume reading; those hop to the loop.
///
/// Inbound frames come from the tail of the pipeline (after validation and aggregation); outbound frames
/// are already encoded (`WireFrame`) and go in through `WireWriter`, next to the head, so a broadcast's
/// one buffer reaches every socket unchanged. Frames for this connection arrive through its loop's
/// `DeliveryQueue`, which keeps their order and flushes once per tick; how they are written, and what
/// happens to a client that stops reading, is in `ServerConnection+Writing.swift`.
final class ServerConnection: ChannelInboundHandler, BacklogBudget.Member, Sendable {
    typealias InboundIn = WebSocketFrame

    let eventLoop: any EventLoop
    /// The loop's delivery queue, through which every frame for this connection goes.
    let queue: DeliveryQueue
    let settings: ConnectionSettings
    /// The server's logger; the peer's address is added only when something is logged, so an idle
    /// connection does not carry its own copy of the metadata.
    private let serverLogger: Logger
    let onSlowConsumer: @Sendable () -> Void
    let budget: BacklogBudget
    // The backlog's figures for the budget, which reads them from any thread: copies, written on the loop
    // only by `publishBacklog()`.
    let pinned = Atomic<Int>(0)
    let stalledSince = Atomic<UInt64>(.max)
    private let bound: NIOLoopBound<Loop>
    /// The connection's state; only on its event loop (checked).
    var loop: Loop { self.bound.value }

    /// Made on `eventLoop`, where the upgrade adds it to the channel's pipeline.
    init(
        eventLoop: any EventLoop,
        queue: DeliveryQueue,
        settings: ConnectionSettings,
        logger: Logger,
        budget: BacklogBudget,
        onSlowConsumer: @escaping @Sendable () -> Void = {}
    ) {
        self.eventLoop = eventLoop
        self.queue = queue
        self.settings = settings
        self.serverLogger = logger
        self.budget = budget
        self.onSlowConsumer = onSlowConsumer
        self.bound = NIOLoopBound(Loop(machine: .server(maxHeldBytes: settings.maxEarlyBytes)), eventLoop: eventLoop)
    }

    var logger: Logger {
        var logger = self.serverLogger
        logger[metadataKey: "chat.peer"] = Self.peer(self.loop.context?.channel)
        return logger
    }

    /// How logs name the client: its address.
    static func peer(_ channel: (any Channel)?) -> Logger.MetadataValue {
        "\(channel?.remoteAddress.map { "\($0)" } ?? "?")"
    }

    // MARK: - Any thread

    /// Queues an encoded server frame (a JSON payload) after everything queued before it.
    func send(_ payload: ByteBuffer, opcode: WebSocketOpcode = .text) {
        self.queue.deliver(WireFrame.encode(payload, opcode: opcode), to: .one(self))
    }

    /// Starts the close handshake with `code`, after what is already queued (or instead of it).
    /// On the loop it takes effect at once, so the rest of a read after a violation is discarded.
    func requestClose(_ code: WebSocketErrorCode, reason: String = "", dropPending: Bool = false) {
        guard self.eventLoop.inEventLoop else {
            self.eventLoop.execute { self.requestClose(code, reason: reason, dropPending: dropPending) }
            return
        }
        self.perform(self.loop.machine.closeRequested(code, reason: reason), dropPending: dropPending)
    }

    /// Starts serving the client's frames with `application` (those that arrived early first).
    func attach(_ application: Application) {
        self.eventLoop.execute {
            switch self.loop.machine.attached() {
            case .alreadyClosed(let sent):
                application.onClosed(sent)
                return
            case .drainHeld, .none:
                self.loop.application = application
            }
            // A welcome and replay larger than the socket can put it behind before it had an application.
            if self.loop.backlog.isBehind { application.onBehind(true) }
            self.handleHeld()
        }
    }

    /// Stops handling the client's frames until `resumeReading()`: its room waits for a slow member. On the loop.
    func pauseReading() {
        guard self.loop.machine.pauseReading() else { return }
        try? self.loop.context?.channel.syncOptions?.setOption(.autoRead, value: false)
    }

    /// Handles the client's frames again (from any thread): first those that were held, then the socket's.
    func resumeReading() {
        self.eventLoop.execute {
            self.loop.machine.resumeReading()
            self.handleHeld()
        }
    }

    /// Hands held frames to the application in order, until none is left or its room pauses us again;
    /// then reads on.
    private func handleHeld() {
        while let frame = self.loop.machine.nextHeld() { self.deliver(frame) }
        guard self.loop.machine.readsFreely else { return }
        try? self.loop.context?.channel.syncOptions?.setOption(.autoRead, value: true)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.loop.context = context
        self.loop.writer = try? context.pipeline.syncOperations.handler(type: WireWriter.self).context
        self.schedulePing()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received(self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        let sent = self.loop.machine.channelClosed()
        self.loop.pingTimer?.cancel()
        self.loop.stallTimer?.cancel()
        self.loop.backlogTimer?.cancel()
        self.dropBacklog()
        let application = self.loop.application
        self.loop.application = nil
        self.loop.context = nil
        self.loop.writer = nil
        application?.onClosed(sent)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOWebSocketFrameAggregator.Error {
            self.logger.debug("fragmented message rejected", metadata: ["chat.error": "\(error)"])
            self.perform(self.loop.machine.closeRequested(.messageTooLarge, reason: "message too large"))
            return
        }
        // Decoder errors were answered with a close frame by NIO's protocol error handler already.
        self.logger.debug("read failed", metadata: ["chat.error": "\(error)"])
        context.close(promise: nil)
    }

    private func received(_ frame: WebSocketFrame) {
        switch frame.opcode {
        case .text, .binary:
            // Else it is held (the machine keeps it), discarded after our close, or one too many (a close).
            let action = self.loop.machine.receivedData(frame)
            if action == .deliver { self.deliver(frame) } else { self.perform(action) }
        case .ping:
            guard self.loop.machine.receivedPing() == .sendPong else { return }
            self.send(frame.unmaskedData, opcode: .pong)
        case .pong:
            _ = self.loop.machine.receivedPong(frame.unmaskedData)
        case .connectionClose:
            var data = frame.unmaskedData
            self.perform(self.loop.machine.receivedClose(code: data.readWebSocketErrorCode()))
        default:
            self.perform(self.loop.machine.closeRequested(.protocolError, reason: "unexpected opcode"))
        }
    }

    private func deliver(_ frame: WebSocketFrame) {
        let application = self.loop.application
        if frame.opcode == .text {
            application?.onText(frame.unmaskedData)
        } else if let onBinary = application?.onBinary {
            onBinary(frame.unmaskedData)
        } else {
            let error = ServerError(
                code: ChatErrorCode.unsupported,
                message: "binary frames are not supported; send text"
            )
            self.send(ServerFrame.error(error).encode())
        }
    }
}
