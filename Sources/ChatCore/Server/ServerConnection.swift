import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One upgraded WebSocket connection on the server, as a channel handler: no task, no stream, no lock.
///
/// Everything happens on the connection's event loop. Inbound frames come from the tail of the pipeline
/// (after validation and aggregation); outbound frames are already encoded (`WireFrame`) and go in through
/// `WireWriter`, next to the head, so a broadcast's one buffer reaches every socket unchanged. Frames for
/// this connection arrive through its loop's `DeliveryQueue`, which keeps their order and flushes once
/// per tick. While the socket is not writable, frames wait in a backlog (`OutboundBacklog`): a reader that
/// keeps reading never loses one — past `maxClientBacklog` its room waits for it — while a client that
/// stops reading is closed with 1008 (no progress for `slowConsumerTimeout`; or, once behind, for
/// `slowReaderGrace`; or when the server's `BacklogBudget` is spent and its backlog is among the largest).
final class ServerConnection: ChannelInboundHandler, BacklogBudget.Member, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame

    /// What the connection does with the client's data frames, set once the client joined.
    struct Application: Sendable {
        var onText: @Sendable (ByteBuffer) -> Void
        var onBinary: (@Sendable (ByteBuffer) -> Void)?
        var onClosed: @Sendable (_ sentCloseCode: WebSocketErrorCode?) -> Void
        /// The connection fell behind (true) or caught up (false): its room holds its publishers meanwhile.
        var onBehind: @Sendable (_ behind: Bool) -> Void = { _ in }
    }

    let eventLoop: any EventLoop
    /// The loop's delivery queue, through which every frame for this connection goes.
    let queue: DeliveryQueue
    private let settings: ConnectionSettings
    /// The server's logger; the peer's address is added only when something is logged, so an idle
    /// connection does not carry its own copy of the metadata.
    private let serverLogger: Logger
    private let onSlowConsumer: @Sendable () -> Void
    private let budget: BacklogBudget
    // `backlog`'s figures for the budget, which reads them from any thread: copies, written on `eventLoop`
    // only by `publishBacklog()`.
    private let pinned = Atomic<Int>(0)
    private let stalledSince = Atomic<UInt64>(.max)

    // Everything below is touched only on `eventLoop`.
    private var context: ChannelHandlerContext?
    private var writer: ChannelHandlerContext?
    private var machine = ConnectionStateMachine()
    private var application: Application?
    /// Data frames read but not handled yet, in order: they came before `attach` (the client spoke before
    /// its join completed), or while the room waits for a member behind — NIO delivers the rest of a read
    /// after reading is paused, and handling it would overshoot the member's bound by a whole read.
    private var waiting: CircularBuffer<WebSocketFrame>?
    private var waitingBytes = 0
    /// Frames waiting for the socket to become writable.
    private var backlog = OutboundBacklog()
    private var backlogTimer: Scheduled<Void>?
    /// The room asked this connection to stop reading (it waits for a member that fell behind).
    private var readingPaused = false
    private var needsFlush = false
    /// Set once a close frame was written: nothing may follow it (RFC 6455 §5.5.1).
    private var closeSent = false
    private var sentCloseCode: WebSocketErrorCode?
    private var closed = false
    private var pingTimer: Scheduled<Void>?
    private var stallTimer: Scheduled<Void>?

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
    }

    private var logger: Logger {
        var logger = self.serverLogger
        logger[metadataKey: "chat.peer"] = Self.peer(self.context?.channel)
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
    func requestClose(_ code: WebSocketErrorCode, reason: String = "", dropPending: Bool = false) {
        if self.eventLoop.inEventLoop {
            self.close(code, reason: reason, dropPending: dropPending)
        } else {
            self.eventLoop.execute { self.close(code, reason: reason, dropPending: dropPending) }
        }
    }

    /// Stops reading the client's frames until `resumeReading()`: its room waits for a slow member. On the loop.
    func pauseReading() {
        self.eventLoop.preconditionInEventLoop()
        guard !self.readingPaused, let channel = self.context?.channel else { return }
        self.readingPaused = true
        try? channel.syncOptions?.setOption(.autoRead, value: false)
    }

    /// Reads the client's frames again (from any thread): first those that waited, then the socket.
    func resumeReading() {
        self.eventLoop.execute {
            guard self.readingPaused else { return }
            self.readingPaused = false
            self.handleWaiting()
            // Handling what waited may have paused it again.
            guard !self.readingPaused else { return }
            try? self.context?.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    /// Handles the data frames that waited, in order, until they are done or the room pauses us again.
    private func handleWaiting() {
        while self.application != nil, !self.readingPaused, let frame = self.waiting?.popFirst() {
            self.waitingBytes -= frame.length
            self.received(frame)
        }
        if self.waiting?.isEmpty == true { self.waiting = nil }
    }

    // MARK: - BacklogBudget.Member (any thread)

    var pinnedBacklogBytes: Int { self.pinned.load(ordering: .relaxed) }
    var stalledSinceNanoseconds: UInt64 { self.stalledSince.load(ordering: .relaxed) }

    func evictForBudget() {
        self.eventLoop.execute {
            guard !self.backlog.isEmpty else { return }
            self.evictSlowConsumer(reason: "the server's backlog budget is spent and this backlog is among the largest")
        }
    }

    /// Starts serving the client's frames with `application` (those that arrived early first).
    func attach(_ application: Application) {
        self.eventLoop.execute {
            guard !self.closed else {
                application.onClosed(self.sentCloseCode)
                return
            }
            self.application = application
            // A welcome and replay larger than the socket can put it behind before it had an application.
            if self.backlog.isBehind { application.onBehind(true) }
            self.handleWaiting()
        }
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.writer = try? context.pipeline.syncOperations.handler(type: WireWriter.self).context
        self.schedulePing()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        let mustWait = self.application == nil || self.readingPaused || self.waiting != nil
        guard mustWait, frame.opcode == .text || frame.opcode == .binary else {
            // Control frames (pings, pongs, close) are never held up.
            self.received(frame)
            return
        }
        // Bounded like everything else: a joining client may talk early, not flood; a paused one has at
        // most the rest of one read.
        self.waitingBytes += frame.length
        guard self.waitingBytes <= self.settings.maxEarlyBytes else {
            self.waiting = nil
            self.waitingBytes = 0
            self.close(.policyViolation, reason: "too much data before the welcome", dropPending: false)
            return
        }
        if self.waiting == nil { self.waiting = CircularBuffer(initialCapacity: 4) }
        self.waiting!.append(frame)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            self.socketStalled()
            return
        }
        self.stallTimer?.cancel()
        self.stallTimer = nil
        self.backlog.socketDrained()
        self.publishBacklog()
        self.writeBacklog()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closed = true
        self.machine.channelClosed()
        self.pingTimer?.cancel()
        self.stallTimer?.cancel()
        self.backlogTimer?.cancel()
        self.dropBacklog()
        self.application?.onClosed(self.sentCloseCode)
        self.application = nil
        self.context = nil
        self.writer = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOWebSocketFrameAggregator.Error {
            self.logger.debug("fragmented message rejected", metadata: ["chat.error": "\(error)"])
            self.close(.messageTooLarge, reason: "message too large", dropPending: true)
            return
        }
        // Decoder errors were answered with a close frame by NIO's protocol error handler already.
        self.logger.debug("read failed", metadata: ["chat.error": "\(error)"])
        context.close(promise: nil)
    }

    private func received(_ frame: WebSocketFrame) {
        switch frame.opcode {
        case .text:
            guard self.machine.receivedData() == .deliver else { return }
            self.application?.onText(frame.unmaskedData)
        case .binary:
            guard self.machine.receivedData() == .deliver else { return }
            if let onBinary = self.application?.onBinary {
                onBinary(frame.unmaskedData)
            } else {
                let error = ServerError(
                    code: ChatErrorCode.unsupported,
                    message: "binary frames are not supported; send text"
                )
                self.send(ServerFrame.error(error).encode())
            }
        case .ping:
            guard self.machine.receivedPing() == .sendPong else { return }
            self.send(frame.unmaskedData, opcode: .pong)
        case .pong:
            _ = self.machine.receivedPong()
        case .connectionClose:
            var data = frame.unmaskedData
            switch self.machine.receivedClose(code: data.readWebSocketErrorCode()) {
            case .echoCloseAndFinish(let reply):
                // The handshake is done once our answer is out: then the TCP connection closes.
                self.sentCloseCode = reply ?? .normalClosure
                self.writeClose(WireFrame.close(reply, reason: ""), dropPending: true, thenClose: true)
            case .finish:
                self.context?.close(promise: nil)
            default:
                break
            }
        default:
            self.close(.protocolError, reason: "unexpected opcode", dropPending: false)
        }
    }

    // MARK: - Writing (DeliveryQueue calls these on the loop)

    /// Writes `frame` without flushing; true when the connection now needs a flush.
    func writeWithoutFlush(_ frame: ByteBuffer) -> Bool {
        guard !self.closeSent, !self.closed, let writer = self.writer, let channel = self.context?.channel else {
            return false
        }
        if self.backlog.isEmpty && channel.isWritable {
            writer.write(NIOAny(frame), promise: nil)
            defer { self.needsFlush = true }
            return !self.needsFlush
        }
        // The socket is full: keep the frame, and count what it pins.
        self.keep(frame)
        return false
    }

    private func keep(_ frame: ByteBuffer) {
        if self.backlog.isEmpty { self.budget.list(self) }
        let now = self.eventLoop.now
        let appended = self.backlog.append(frame, now: now, rules: self.settings.backlog)
        self.publishBacklog()
        if appended == .fellBehind {
            self.logger.debug("client fell behind", metadata: ["chat.backlog": "\(self.backlog.pinnedBytes)"])
            self.application?.onBehind(true)
            self.reviewBacklog()
        }
        self.budget.add(OutboundBacklog.cost(of: frame), now: now)
    }

    /// Copies the backlog's figures where the budget reads them.
    private func publishBacklog() {
        self.pinned.store(self.backlog.pinnedBytes, ordering: .relaxed)
        self.stalledSince.store(self.backlog.stalledSince?.uptimeNanoseconds ?? .max, ordering: .relaxed)
    }

    /// Closes the connection if its backlog rules say so, else looks again when they say.
    private func reviewBacklog() {
        self.backlogTimer?.cancel()
        self.backlogTimer = nil
        switch self.backlog.verdict(now: self.eventLoop.now, rules: self.settings.backlog) {
        case .evict(let reason):
            self.evictSlowConsumer(reason: reason)
        case .wait(let deadline?):
            self.backlogTimer = self.eventLoop.scheduleTask(deadline: deadline) {
                self.backlogTimer = nil
                self.reviewBacklog()
            }
        case .wait(until: nil):
            break
        }
    }

    /// Forgets every waiting frame (closing), releasing what they pinned.
    private func dropBacklog() {
        let wasBehind = self.backlog.isBehind
        let freed = self.backlog.removeAll()
        guard freed > 0 || wasBehind else { return }
        self.publishBacklog()
        self.budget.release(freed)
        self.budget.unlist(self)
        // The room stops waiting for a member that is leaving (its leave says so too; either is enough).
        if wasBehind { self.application?.onBehind(false) }
    }

    /// Flushes what `writeWithoutFlush` wrote.
    func flushWrites() {
        guard self.needsFlush else { return }
        self.needsFlush = false
        self.writer?.flush()
    }

    private func writeBacklog() {
        guard let channel = self.context?.channel, let writer = self.writer else { return }
        var freed = 0
        while channel.isWritable, let frame = self.backlog.popFirst() {
            freed += OutboundBacklog.cost(of: frame)
            writer.write(NIOAny(frame), promise: nil)
        }
        writer.flush()
        guard freed > 0 else { return }
        self.publishBacklog()
        self.budget.release(freed)
        if self.backlog.isEmpty { self.budget.unlist(self) }
        if self.backlog.caughtUp(rules: self.settings.backlog) {
            self.logger.debug("client caught up")
            self.application?.onBehind(false)
        }
        self.reviewBacklog()
    }

    // MARK: - Closing, pings, stalls

    private func close(_ code: WebSocketErrorCode, reason: String, dropPending: Bool) {
        guard case .sendClose(let code) = self.machine.closeRequested(code) else { return }
        self.sentCloseCode = code
        self.writeClose(WireFrame.close(code, reason: reason), dropPending: dropPending, thenClose: false)
    }

    /// Writes the close frame after the backlog (or instead of it); with `thenClose` the TCP connection
    /// closes once it is out.
    private func writeClose(_ frame: ByteBuffer, dropPending: Bool, thenClose: Bool) {
        guard !self.closeSent, !self.closed, let writer = self.writer else { return }
        self.closeSent = true
        if dropPending {
            self.dropBacklog()
        }
        if !self.backlog.isEmpty {
            // The socket is full: the close frame waits its turn (`writeBacklog`).
            self.keep(frame)
        } else if thenClose {
            writer.writeAndFlush(NIOAny(frame)).whenComplete { _ in self.context?.close(promise: nil) }
        } else {
            writer.writeAndFlush(NIOAny(frame), promise: nil)
        }
        self.needsFlush = false
        // A peer that does not read (the usual reason to close it) never lets our close frame out, and
        // never answers it: after the close timeout the TCP connection is closed regardless.
        self.eventLoop.scheduleTask(in: self.settings.closeTimeout) {
            self.context?.close(promise: nil)
        }
    }

    private func evictSlowConsumer(reason: String) {
        self.logger.info("client stopped reading; closing it", metadata: ["chat.reason": "\(reason)"])
        self.close(.policyViolation, reason: "slow consumer", dropPending: true)
        self.onSlowConsumer()
    }

    private func schedulePing() {
        self.pingTimer = self.eventLoop.scheduleTask(in: self.settings.pingInterval) {
            guard self.machine.pingTimerFired() == .sendPing else { return }
            self.send(ByteBuffer(string: "chat"), opcode: .ping)
            self.pingTimer = self.eventLoop.scheduleTask(in: self.settings.pongTimeout) {
                // While its room holds this connection's reading, its pong waits unread: not its fault.
                if !self.readingPaused, self.machine.pongDeadlinePassed() == .dropUnresponsive {
                    self.logger.info("client stopped answering pings; dropping it")
                    self.context?.close(promise: nil)
                    return
                }
                self.schedulePing()
            }
        }
    }

    /// The socket stopped taking data: unless it takes some within `slowConsumerTimeout`, the client
    /// stopped reading. A reader that keeps reading, however slowly, makes the socket writable again.
    private func socketStalled() {
        let now = self.eventLoop.now
        self.backlog.socketStalled(now: now)
        self.publishBacklog()
        if self.backlog.isBehind { self.reviewBacklog() }
        guard self.stallTimer == nil else { return }
        let timeout = self.settings.stallTimeout
        self.stallTimer = self.eventLoop.scheduleTask(in: timeout) {
            self.stallTimer = nil
            guard let channel = self.context?.channel, !channel.isWritable else { return }
            self.evictSlowConsumer(
                reason: "no progress for \(Duration.nanoseconds(timeout.nanoseconds).formattedSeconds)"
            )
        }
    }
}

/// Sits next to the head of the pipeline (after TLS) so `ServerConnection` writes encoded frames past
/// NIO's frame encoder.
final class WireWriter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = ByteBuffer

    /// The handler's context, once added.
    var context: ChannelHandlerContext? { self.box.value }
    private let box: NIOLoopBoundBox<ChannelHandlerContext?>

    init(eventLoop: any EventLoop) {
        self.box = NIOLoopBoundBox(nil, eventLoop: eventLoop)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.box.value = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.box.value = nil
    }
}
