import ChatProtocol
import ChatTransport
import Logging
import NIOCore
import Synchronization

/// Writing to the socket, and what happens to a client that stops reading; on the loop.
///
/// While the socket is not writable, frames wait in a backlog (`OutboundBacklog`): a reader that keeps
/// reading never loses one — past `maxClientBacklog` its room waits for it — while a client that stops
/// reading is closed with 1008 (no progress for `slowConsumerTimeout`; or, once behind, for
/// `slowReaderGrace`; or when the server's `BacklogBudget` is spent and its backlog is among the largest).
extension ServerConnection {
    // MARK: DeliveryQueue calls these

    /// Writes `frame` without flushing; true when the connection now needs a flush.
    func writeWithoutFlush(_ frame: ByteBuffer) -> Bool {
        let loop = self.loop
        guard loop.machine.canSend, let writer = loop.writer, let channel = loop.context?.channel else { return false }
        if loop.backlog.isEmpty && channel.isWritable {
            writer.write(NIOAny(frame), promise: nil)
            defer { loop.needsFlush = true }
            return !loop.needsFlush
        }
        // The socket is full: keep the frame, and count what it pins.
        self.keep(frame)
        return false
    }

    /// Flushes what `writeWithoutFlush` wrote.
    func flushWrites() {
        let loop = self.loop
        guard loop.needsFlush else { return }
        loop.needsFlush = false
        loop.writer?.flush()
    }

    // MARK: BacklogBudget.Member (any thread)

    var pinnedBacklogBytes: Int { self.pinned.load(ordering: .relaxed) }
    var stalledSinceNanoseconds: UInt64 { self.stalledSince.load(ordering: .relaxed) }

    func evictForBudget() {
        self.eventLoop.execute {
            guard !self.loop.backlog.isEmpty else { return }
            self.evictSlowConsumer(reason: "the server's backlog budget is spent and this backlog is among the largest")
        }
    }

    // MARK: Channel events

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            self.socketStalled()
            return
        }
        self.loop.stallTimer?.cancel()
        self.loop.stallTimer = nil
        self.loop.backlog.socketDrained()
        self.publishBacklog()
        self.writeBacklog()
    }

    // MARK: The backlog

    func keep(_ frame: ByteBuffer) {
        if self.loop.backlog.isEmpty { self.budget.list(self) }
        let now = self.eventLoop.now
        let appended = self.loop.backlog.append(frame, now: now, rules: self.settings.backlog)
        self.publishBacklog()
        if appended == .fellBehind {
            self.logger.debug(
                "client fell behind",
                metadata: ["chat.backlog": "\(self.loop.backlog.pinnedBytes)"]
            )
            self.loop.application?.onBehind(true)
            self.reviewBacklog()
        }
        self.budget.add(OutboundBacklog.cost(of: frame), now: now)
    }

    /// Copies the backlog's figures where the budget reads them.
    private func publishBacklog() {
        self.pinned.store(self.loop.backlog.pinnedBytes, ordering: .relaxed)
        self.stalledSince.store(self.loop.backlog.stalledSince?.uptimeNanoseconds ?? .max, ordering: .relaxed)
    }

    /// Closes the connection if its backlog rules say so, else looks again when they say.
    private func reviewBacklog() {
        self.loop.backlogTimer?.cancel()
        self.loop.backlogTimer = nil
        switch self.loop.backlog.verdict(now: self.eventLoop.now, rules: self.settings.backlog) {
        case .evict(let reason):
            self.evictSlowConsumer(reason: reason)
        case .wait(let deadline?):
            self.loop.backlogTimer = self.eventLoop.scheduleTask(deadline: deadline) {
                self.loop.backlogTimer = nil
                self.reviewBacklog()
            }
        case .wait(until: nil):
            break
        }
    }

    /// Forgets every waiting frame (closing), releasing what they pinned.
    func dropBacklog() {
        let wasBehind = self.loop.backlog.isBehind
        let freed = self.loop.backlog.removeAll()
        guard freed > 0 || wasBehind else { return }
        self.publishBacklog()
        self.budget.release(freed)
        self.budget.unlist(self)
        // The room stops waiting for a member that is leaving (its leave says so too; either is enough).
        if wasBehind { self.loop.application?.onBehind(false) }
    }

    private func writeBacklog() {
        guard let channel = self.loop.context?.channel, let writer = self.loop.writer else { return }
        var freed = 0
        while channel.isWritable, let frame = self.loop.backlog.popFirst() {
            freed += OutboundBacklog.cost(of: frame)
            writer.write(NIOAny(frame), promise: nil)
        }
        writer.flush()
        guard freed > 0 else { return }
        self.publishBacklog()
        self.budget.release(freed)
        if self.loop.backlog.isEmpty { self.budget.unlist(self) }
        if self.loop.backlog.caughtUp(rules: self.settings.backlog) {
            self.logger.debug("client caught up")
            self.loop.application?.onBehind(false)
        }
        self.reviewBacklog()
    }

    /// The socket stopped taking data: unless it takes some within `slowConsumerTimeout`, the client
    /// stopped reading. A reader that keeps reading, however slowly, makes the socket writable again.
    private func socketStalled() {
        self.loop.backlog.socketStalled(now: self.eventLoop.now)
        self.publishBacklog()
        if self.loop.backlog.isBehind { self.reviewBacklog() }
        guard self.loop.stallTimer == nil else { return }
        let timeout = self.settings.stallTimeout
        self.loop.stallTimer = self.eventLoop.scheduleTask(in: timeout) {
            self.loop.stallTimer = nil
            guard let channel = self.loop.context?.channel, !channel.isWritable else { return }
            self.evictSlowConsumer(
                reason: "no progress for \(Duration.nanoseconds(timeout.nanoseconds).formattedSeconds)"
            )
        }
    }
}
