import CoreMetrics

/// The server's metrics, made by the backend its configuration names (`ServerConfiguration.Metrics`):
/// counters recorded as things happen; levels (connections, rooms, history) recorded when `/metrics` is
/// asked for.
final class ServerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let exposition: (@Sendable () -> String)?

    let connectionsTotal: CoreMetrics.Counter
    let messagesReceived: CoreMetrics.Counter
    /// Direct messages accepted (to a member here, or carried to another node).
    let directMessages: CoreMetrics.Counter
    /// `typing` notices relayed to a room.
    let typingRelayed: CoreMetrics.Counter
    let messagesBroadcast: CoreMetrics.Counter
    let deliveries: CoreMetrics.Counter
    let bytesReceived: CoreMetrics.Counter
    let acks: CoreMetrics.Counter
    let slowConsumersClosed: CoreMetrics.Counter
    let publishersPaused: CoreMetrics.Counter
    /// In a cluster: how long a batch's transaction took, from BEGIN to COMMIT.
    let clusterCommitSeconds: CoreMetrics.Timer
    /// In a cluster: reads of committed messages a node had not been handed (another node's, or after a gap).
    let clusterCatchUps: CoreMetrics.Counter
    /// In a cluster: notifications received from PostgreSQL.
    let clusterNotices: CoreMetrics.Counter
    /// In a cluster: 1 while the node listens to PostgreSQL, 0 while it tries to reconnect.
    let clusterListenerUp: CoreMetrics.Gauge
    private let backlogBytes: CoreMetrics.Gauge
    private let connections: CoreMetrics.Gauge
    private let rooms: CoreMetrics.Gauge
    private let historyMessages: CoreMetrics.Gauge

    init(_ metrics: ServerConfiguration.Metrics) {
        let factory = metrics.factory
        self.factory = factory
        self.exposition = metrics.exposition
        self.connectionsTotal = CoreMetrics.Counter(label: "chat_connections_total", factory: factory)
        self.messagesReceived = CoreMetrics.Counter(label: "chat_messages_received_total", factory: factory)
        self.directMessages = CoreMetrics.Counter(label: "chat_direct_messages_total", factory: factory)
        self.typingRelayed = CoreMetrics.Counter(label: "chat_typing_relayed_total", factory: factory)
        self.messagesBroadcast = CoreMetrics.Counter(label: "chat_messages_broadcast_total", factory: factory)
        self.deliveries = CoreMetrics.Counter(label: "chat_messages_delivered_total", factory: factory)
        self.bytesReceived = CoreMetrics.Counter(label: "chat_received_bytes_total", factory: factory)
        self.acks = CoreMetrics.Counter(label: "chat_acks_total", factory: factory)
        self.slowConsumersClosed = CoreMetrics.Counter(label: "chat_slow_consumers_closed_total", factory: factory)
        self.publishersPaused = CoreMetrics.Counter(label: "chat_publishers_paused_total", factory: factory)
        self.clusterCommitSeconds = CoreMetrics.Timer(label: "chat_cluster_commit_seconds", factory: factory)
        self.clusterCatchUps = CoreMetrics.Counter(label: "chat_cluster_catch_up_reads_total", factory: factory)
        self.clusterNotices = CoreMetrics.Counter(label: "chat_cluster_notifications_total", factory: factory)
        self.clusterListenerUp = CoreMetrics.Gauge(label: "chat_cluster_listener_up", factory: factory)
        self.backlogBytes = CoreMetrics.Gauge(label: "chat_backlog_bytes", factory: factory)
        self.connections = CoreMetrics.Gauge(label: "chat_connections", factory: factory)
        self.rooms = CoreMetrics.Gauge(label: "chat_rooms", factory: factory)
        self.historyMessages = CoreMetrics.Gauge(label: "chat_history_messages", factory: factory)
    }

    /// A frame refused with an `error` (its code: `too_large`, `rate_limited`, `bad_request`, …).
    func rejected(_ code: String) {
        CoreMetrics.Counter(label: "chat_frames_rejected_total", dimensions: [("reason", code)], factory: self.factory)
            .increment()
    }

    /// Whether `/metrics` has something to show.
    var isExposed: Bool { self.exposition != nil }

    /// Records the levels as they are now, then returns the exposition text (empty when there is none).
    func render(connections: Int, rooms: Int, historyMessages: Int, backlogBytes: Int) -> String {
        self.connections.record(connections)
        self.backlogBytes.record(backlogBytes)
        self.rooms.record(rooms)
        self.historyMessages.record(historyMessages)
        return self.exposition?() ?? ""
    }
}
