import ChatProtocol

/// Everything `chat serve` can be told; every value has the default the CLI documents.
public struct ServerConfiguration: Sendable {
    /// The address to bind (`127.0.0.1`, `::1`, `0.0.0.0`, a host name).
    public var host: String
    /// The port to bind; 0 picks a free one.
    public var port: Int
    /// Messages each room keeps for replay.
    public var historySize: Int
    /// Client message ids each room remembers, so a message resent after a reconnect is stored once.
    public var dedupWindow: Int
    /// Messages a second each connection may send on average; 0 turns the limit off.
    public var rateLimit: Double
    /// Messages a connection may send at once above the average.
    public var burst: Int
    /// The largest message text accepted, in UTF-8 bytes; larger ones get a `too_large` error.
    public var maxMessageBytes: Int
    /// The largest WebSocket frame read at all; a larger one closes the connection with 1009.
    public var maxFrameBytes: Int
    /// What one connection's unwritten frames may pin (bookkeeping included) before it is behind: its
    /// room then stops reading from publishers until it catches up, so readers lose nothing.
    public var maxClientBacklog: Int
    /// What all connections' unwritten frames may pin together; past it the largest backlogs of clients
    /// that stopped reading are closed first.
    public var maxTotalBacklog: Int
    /// How long writes to a client may make no progress (it stopped reading) before it is closed; also
    /// how long a client may stay behind (see `maxClientBacklog`) before it is closed.
    public var slowConsumerTimeout: Duration
    /// How long a client that is behind may go without reading anything before it is closed: its room
    /// is waiting for it.
    public var slowReaderGrace: Duration
    /// The most bytes of stored messages read back at once for a resume older than the history.
    public var maxReadBackBytes: Int
    /// How often the server pings each client.
    public var pingInterval: Duration
    /// How long a client may take to answer a ping before it is dropped.
    public var pongTimeout: Duration
    /// The most connections (WebSocket and HTTP) served at once; more are answered 503.
    public var maxConnections: Int
    /// The most connections served at once from one IP address (more are answered 429); 0: no limit.
    public var maxConnectionsPerAddress: Int
    /// How long a new connection may take to send its request head; slower ones are closed.
    public var handshakeTimeout: Duration
    /// The most bytes a request head may have (request line and headers); a larger one gets `431`.
    public var maxRequestHeadBytes: Int
    /// The most lines a request head may have, the request line included; more get `431`.
    public var maxRequestHeadLines: Int
    /// How long to wait for the peer's close frame after sending ours.
    public var closeTimeout: Duration
    /// How long a graceful shutdown waits for connections before closing them hard.
    public var shutdownTimeout: Duration
    /// A path (`/echo`) where every message is echoed back verbatim on the same connection, for WebSocket
    /// conformance testing; nil: none.
    public var echoPath: String?
    /// The certificate and key to serve `wss://` and `https://` with; nil: plain `ws://`.
    public var tls: ServerTLS?
    /// The token every WebSocket upgrade must carry (`Authorization: Bearer …` or `?token=`); nil: none.
    public var token: String?
    /// Browser origins allowed to connect besides the server's own; `*` allows any.
    public var allowedOrigins: [String]
    /// With a store: how many messages may wait for the disk before new ones are refused with `rate_limited`.
    public var storeBacklog: Int
    /// A room with more members than this is large: its `welcome` lists only this many and joins and
    /// leaves are not announced (n members joining would otherwise cost n² frames).
    public var presenceLimit: Int
    /// Where the counters go and what `/metrics` shows; nil: the process's swift-metrics backend
    /// (`MetricsSystem.factory`) and no `/metrics`.
    public var metrics: Metrics?

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8000,
        historySize: Int = 1000,
        dedupWindow: Int = 10_000,
        rateLimit: Double = 1000,
        burst: Int = 2000,
        maxMessageBytes: Int = 64 * 1024,
        maxFrameBytes: Int = 1024 * 1024,
        maxClientBacklog: Int = 1024 * 1024,
        maxTotalBacklog: Int = 256 * 1024 * 1024,
        slowConsumerTimeout: Duration = .seconds(15),
        slowReaderGrace: Duration = .seconds(1),
        maxReadBackBytes: Int = 8 * 1024 * 1024,
        pingInterval: Duration = .seconds(25),
        pongTimeout: Duration = .seconds(10),
        maxConnections: Int = 10_000,
        maxConnectionsPerAddress: Int = 1000,
        handshakeTimeout: Duration = .seconds(10),
        maxRequestHeadBytes: Int = 16 * 1024,
        maxRequestHeadLines: Int = 100,
        closeTimeout: Duration = .seconds(2),
        shutdownTimeout: Duration = .seconds(3),
        storeBacklog: Int = 50_000,
        presenceLimit: Int = 200,
        token: String? = nil,
        allowedOrigins: [String] = [],
        tls: ServerTLS? = nil,
        echoPath: String? = nil,
        metrics: Metrics? = nil
    ) {
        self.host = host
        self.port = port
        self.historySize = historySize
        self.dedupWindow = dedupWindow
        self.rateLimit = rateLimit
        self.burst = burst
        self.maxMessageBytes = maxMessageBytes
        self.maxFrameBytes = maxFrameBytes
        self.maxClientBacklog = maxClientBacklog
        self.maxTotalBacklog = maxTotalBacklog
        self.slowConsumerTimeout = slowConsumerTimeout
        self.slowReaderGrace = slowReaderGrace
        self.maxReadBackBytes = maxReadBackBytes
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.handshakeTimeout = handshakeTimeout
        self.maxRequestHeadBytes = maxRequestHeadBytes
        self.maxRequestHeadLines = maxRequestHeadLines
        self.closeTimeout = closeTimeout
        self.shutdownTimeout = shutdownTimeout
        self.storeBacklog = storeBacklog
        self.presenceLimit = presenceLimit
        self.token = token
        self.allowedOrigins = allowedOrigins
        self.tls = tls
        self.echoPath = echoPath
        self.metrics = metrics
    }

    var accessPolicy: AccessPolicy {
        AccessPolicy(token: self.token, allowedOrigins: self.allowedOrigins)
    }

    /// The limits announced to clients in `welcome`.
    var limits: ServerLimits {
        ServerLimits(
            maxMessageBytes: self.maxMessageBytes,
            maxFrameBytes: self.maxFrameBytes,
            historySize: self.historySize,
            rateLimit: self.rateLimit,
            burst: self.burst
        )
    }
}
