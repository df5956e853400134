public import NIOWebSocket

/// The lifecycle of one WebSocket connection as a value: open, closing after a close frame went out, closed.
///
/// It decides what to send for ping, pong and close frames and when the connection is done; the caller
/// does the I/O. It reads no clock: the ping timer is an event.
public struct ConnectionStateMachine: Sendable {
    /// What the caller should do.
    public enum Action: Sendable, Equatable {
        /// Deliver the data frame to the application.
        case deliver
        /// Send a pong with the ping's payload.
        case sendPong
        /// Send a ping; the peer must answer before the timer fires again.
        case sendPing
        /// Send a close frame with this code; keep reading until the peer's close arrives.
        case sendClose(WebSocketErrorCode)
        /// Answer the peer's close with this code (nil: an empty close body); the connection is then done.
        case echoCloseAndFinish(WebSocketErrorCode?)
        /// The close handshake is complete: close the TCP connection.
        case finish
        /// The peer stopped answering pings: drop the TCP connection without a handshake.
        case dropUnresponsive
        /// Nothing to do.
        case doNothing
    }

    private enum State: Sendable, Equatable {
        case open(awaitingPong: Bool)
        case closing
        case closed
    }

    private var state: State = .open(awaitingPong: false)

    /// Creates a machine for a connection that just opened.
    public init() {}

    /// Whether no close frame was sent or received yet.
    public var isOpen: Bool {
        if case .open = self.state { return true }
        return false
    }

    /// A text or binary frame arrived.
    public mutating func receivedData() -> Action {
        switch self.state {
        case .open: .deliver
        // After our close frame the peer may still send data; RFC 6455 §5.5.1 lets us discard it.
        case .closing, .closed: .doNothing
        }
    }

    /// A ping arrived.
    public mutating func receivedPing() -> Action {
        switch self.state {
        case .open: .sendPong
        case .closing, .closed: .doNothing
        }
    }

    /// A pong arrived.
    public mutating func receivedPong() -> Action {
        if case .open = self.state { self.state = .open(awaitingPong: false) }
        return .doNothing
    }

    /// A close frame arrived, with the code it carried (nil when it had none).
    public mutating func receivedClose(code: WebSocketErrorCode?) -> Action {
        switch self.state {
        case .open:
            self.state = .closed
            return .echoCloseAndFinish(code.map(Self.replyCode))
        case .closing:
            self.state = .closed
            return .finish
        case .closed:
            return .doNothing
        }
    }

    /// The application wants to close the connection with `code`.
    public mutating func closeRequested(_ code: WebSocketErrorCode) -> Action {
        switch self.state {
        case .open:
            self.state = .closing
            return .sendClose(code)
        case .closing, .closed:
            return .doNothing
        }
    }

    /// The ping timer fired: time to check the peer is still there.
    public mutating func pingTimerFired() -> Action {
        switch self.state {
        case .open:
            self.state = .open(awaitingPong: true)
            return .sendPing
        case .closing, .closed:
            return .doNothing
        }
    }

    /// The time a pong may take after a ping has passed.
    public mutating func pongDeadlinePassed() -> Action {
        switch self.state {
        case .open(awaitingPong: true):
            self.state = .closed
            return .dropUnresponsive
        case .open(awaitingPong: false), .closing, .closed:
            return .doNothing
        }
    }

    /// The TCP connection ended.
    public mutating func channelClosed() {
        self.state = .closed
    }

    /// The code to answer a peer's close with: its own, unless it may not appear on the wire (RFC 6455 §7.4).
    private static func replyCode(_ code: WebSocketErrorCode) -> WebSocketErrorCode {
        switch code {
        case .unknown(let raw)
        where raw < 1000 || (raw >= 1004 && raw <= 1006) || (raw >= 1015 && raw < 3000)
            || raw >= 5000:
            .protocolError
        default:
            code
        }
    }
}
