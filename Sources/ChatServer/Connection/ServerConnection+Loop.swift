import ChatTransport
import NIOCore
import NIOWebSocket

extension ServerConnection {
    /// What the connection does with the client's data frames, set once the client joined.
    struct Application: Sendable {
        var onText: @Sendable (ByteBuffer) -> Void
        var onBinary: (@Sendable (ByteBuffer) -> Void)?
        var onClosed: @Sendable (_ sentCloseCode: WebSocketErrorCode?) -> Void
        /// The connection fell behind (true) or caught up (false): its room holds its publishers meanwhile.
        var onBehind: @Sendable (_ behind: Bool) -> Void = { _ in }
    }

    /// Everything that changes, touched only on the connection's event loop. A class, so a method binds
    /// it once (`let loop = self.loop`: one check that it runs on the loop) and reads its fields in place.
    final class Loop {
        var machine: ConnectionStateMachine
        var context: ChannelHandlerContext?
        var writer: ChannelHandlerContext?
        var application: Application?
        /// Frames waiting for the socket to become writable.
        var backlog = OutboundBacklog()
        var backlogTimer: Scheduled<Void>?
        var pingTimer: Scheduled<Void>?
        var stallTimer: Scheduled<Void>?
        var needsFlush = false

        init(machine: ConnectionStateMachine) {
            self.machine = machine
        }
    }
}
