import ChatProtocol
import ChatTransport
import Logging
import NIOCore
import NIOWebSocket

/// Carrying out what the state machine decides about closing, pings and slow clients; on the loop.
extension ServerConnection {
    /// Does what `action` says; `dropPending` for a close: instead of what waits for the socket.
    func perform(_ action: ConnectionStateMachine.Action, dropPending: Bool = false) {
        switch action {
        case .sendClose(let code, let reason):
            self.writeClose(WireFrame.close(code, reason: reason), dropPending: dropPending, thenClose: false)
        case .echoCloseAndFinish(let reply):
            // The handshake is done once our answer is out: then the TCP connection closes.
            self.writeClose(WireFrame.close(reply, reason: ""), dropPending: true, thenClose: true)
        case .finish:
            self.loop.context?.close(promise: nil)
        case .dropUnresponsive:
            self.logger.info("client stopped answering pings; dropping it")
            self.loop.context?.close(promise: nil)
        case .sendPing(let payload):
            self.send(payload, opcode: .ping)
        case .evictSlowConsumer:
            self.writeClose(
                WireFrame.close(.policyViolation, reason: "slow consumer"),
                dropPending: true,
                thenClose: false
            )
            self.onSlowConsumer()
        case .deliver, .hold, .sendPong, .none:
            break
        }
    }

    /// The client stopped taking frames (`reason` says how we know): it is closed with 1008.
    func evictSlowConsumer(reason: String) {
        let action = self.loop.machine.writeStalled()
        guard action == .evictSlowConsumer else { return }
        self.logger.info("client stopped reading; closing it", metadata: ["chat.reason": "\(reason)"])
        self.perform(action)
    }

    /// Writes the close frame after the backlog (or instead of it); with `thenClose` the TCP connection
    /// closes once it is out.
    private func writeClose(_ frame: ByteBuffer, dropPending: Bool, thenClose: Bool) {
        guard let writer = self.loop.writer else { return }
        if dropPending {
            self.dropBacklog()
        }
        if !self.loop.backlog.isEmpty {
            // The socket is full: the close frame waits its turn (`writeBacklog`).
            self.keep(frame)
        } else if thenClose {
            writer.writeAndFlush(NIOAny(frame)).whenComplete { _ in self.loop.context?.close(promise: nil) }
        } else {
            writer.writeAndFlush(NIOAny(frame), promise: nil)
        }
        self.loop.needsFlush = false
        // A peer that does not read (the usual reason to close it) never lets our close frame out, and
        // never answers it: after the close timeout the TCP connection is closed regardless.
        self.eventLoop.scheduleTask(in: self.settings.closeTimeout) {
            self.loop.context?.close(promise: nil)
        }
    }

    /// Pings every `pingInterval`; a client whose pong does not come back within `pongTimeout` is dropped.
    func schedulePing() {
        self.loop.pingTimer = self.eventLoop.scheduleTask(in: self.settings.pingInterval) {
            let ping = self.loop.machine.pingTimerFired()
            guard case .sendPing = ping else { return }
            self.perform(ping)
            self.loop.pingTimer = self.eventLoop.scheduleTask(in: self.settings.pongTimeout) {
                let deadline = self.loop.machine.pongDeadlinePassed()
                guard deadline == .none else { return self.perform(deadline) }
                self.schedulePing()
            }
        }
    }
}
