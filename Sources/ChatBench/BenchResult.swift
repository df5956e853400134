/// What a `chat bench` run measured; `--json` prints it as it is.
public struct BenchResult: Sendable, Codable {
    public struct Latency: Sendable, Codable {
        /// Milliseconds from a publisher's write to a receiver's read.
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var p999: Double
        public var max: Double
    }

    public struct Server: Sendable, Codable {
        public var pid: Int32
        /// CPU seconds the server used while messages flowed (send phase plus drain).
        public var cpuSeconds: Double
        /// That CPU time over the wall time of the same interval (1.0 = one core).
        public var cpuShare: Double
        /// CPU time per delivery received, in microseconds.
        public var cpuMicrosecondsPerDelivery: Double?
        /// Resident memory at the end, in bytes.
        public var rssBytes: Int
        /// `--connections-only`: resident memory before the connections were opened, and the growth per
        /// connection in bytes.
        public var rssBeforeBytes: Int?
        public var rssPerConnectionBytes: Double?
    }

    public var mode: String
    public var url: String
    /// Connections asked for and made.
    public var connectionsRequested: Int
    public var connections: Int
    public var connectSeconds: Double
    public var subscribers: Int
    public var publishers: Int
    public var rooms: Int
    public var size: Int
    /// Publishing: the messages sent, and the deliveries the rooms' membership made of them.
    public var messagesSent: Int
    public var sendSeconds: Double
    public var deliveriesExpected: Int
    public var deliveriesReceived: Int
    public var deliveriesLost: Int
    /// Deliveries received per second, from the first send to the last receipt.
    public var deliveredPerSecond: Double
    public var latency: Latency?
    /// `--connections-only`: connections that answered a ping after all were open.
    public var live: Int?
    /// Connections the server closed before the end of the run.
    public var closedEarly: Int
    public var server: Server?
}
