import Histogram
import NIOCore
import Synchronization

/// What the connections of one event loop received: touched only on that loop, except the counter the
/// progress line reads.
///
/// One per loop, so recording a delivery takes no lock and shares no cache line with another thread.
final class LoopStats: @unchecked Sendable {
    /// Latency from send to receipt, in nanoseconds (1 µs to 1 minute, 3 significant digits).
    var latency = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000)
    /// Benchmark messages received (every receiving connection counts each one).
    let received = Atomic<Int>(0)
    var lastReceivedAt: UInt64 = 0
    /// Pongs received, and connections that closed before the run ended.
    var pongs = 0
    var closed = 0

    func record(sentAt: UInt64, now: UInt64) {
        self.latency.record(now > sentAt ? now - sentAt : 0)
        self.received.add(1, ordering: .relaxed)
        self.lastReceivedAt = now
    }

    /// A copy of the figures, taken on the loop.
    struct Snapshot: Sendable {
        var latency: Histogram<UInt64>
        var received: Int
        var lastReceivedAt: UInt64
        var pongs: Int
        var closed: Int
    }

    var snapshot: Snapshot {
        Snapshot(
            latency: self.latency,
            received: self.received.load(ordering: .relaxed),
            lastReceivedAt: self.lastReceivedAt,
            pongs: self.pongs,
            closed: self.closed
        )
    }
}
