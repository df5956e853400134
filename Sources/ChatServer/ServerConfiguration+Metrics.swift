public import CoreMetrics

extension ServerConfiguration {
    /// Where the server's metrics go: any swift-metrics backend, and what `GET /metrics` answers.
    ///
    /// The server only records (counters as things happen, levels such as open connections when `/metrics`
    /// is asked for); which backend keeps them is the embedder's choice. `chat serve` gives each server a
    /// Prometheus registry of its own and renders it at `/metrics`.
    public struct Metrics: Sendable {
        /// The backend the server's counters, gauges and timers are made by.
        public var factory: any MetricsFactory
        /// The body of `GET /metrics` (Prometheus text format), read after the levels are recorded; nil:
        /// `/metrics` answers 404.
        public var exposition: (@Sendable () -> String)?

        /// Creates a metrics backend.
        public init(factory: any MetricsFactory, exposition: (@Sendable () -> String)? = nil) {
            self.factory = factory
            self.exposition = exposition
        }
    }
}
