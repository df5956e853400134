import NIOCore

/// What every WebSocket connection of a server is held to: made once per server and shared, so a
/// connection keeps one reference instead of its own copy of the whole `ServerConfiguration` (at 10,000
/// idle connections every byte of a connection is 10 kB of the server).
final class ConnectionSettings: Sendable {
    /// The most bytes of data frames a client may send before its join completes.
    let maxEarlyBytes: Int
    let pingInterval: TimeAmount
    let pongTimeout: TimeAmount
    let closeTimeout: TimeAmount
    /// How long the socket may take nothing before the client is closed as stalled.
    let stallTimeout: TimeAmount
    let backlog: OutboundBacklog.Rules

    init(_ configuration: ServerConfiguration) {
        self.maxEarlyBytes = configuration.maxFrameBytes
        self.pingInterval = TimeAmount(configuration.pingInterval)
        self.pongTimeout = TimeAmount(configuration.pongTimeout)
        self.closeTimeout = TimeAmount(configuration.closeTimeout)
        self.stallTimeout = TimeAmount(configuration.slowConsumerTimeout)
        self.backlog = OutboundBacklog.Rules(
            limit: configuration.maxClientBacklog,
            progressGrace: TimeAmount(configuration.slowReaderGrace),
            catchUpTimeout: self.stallTimeout
        )
    }
}
