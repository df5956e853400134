import Histogram
import NIOCore
import Synchronization

/// What the connections of one event loop received: the figures are touched only on that loop (checked:
/// they sit in a `NIOLoopBoundBox`, made off the loop before the run), the counter the progress line
/// reads from any thread is atomic.
///
/// One per loop, so recording a delivery takes no lock and shares no cache line with another thread.
final class LoopStats: Sendable {
    /// The loop-confined figures. A connection, made on the loop, takes them once (`figures`) and records
    /// into them directly: a check per received frame would make the load generator the bottleneck.
    final class Figures {
        /// Latency from send to receipt, in nanoseconds (1 µs to 1 minute, 3 significant digits).
        var latency = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000)
        var lastReceivedAt: UInt64 = 0
        /// Pongs received, and connections that closed before the run ended.
        var pongs = 0
        var closed = 0

        func record(sentAt: UInt64, now: UInt64) {
            self.latency.record(now > sentAt ? now - sentAt : 0)
            self.lastReceivedAt = now
        }
    }

    /// Benchmark messages received (every receiving connection counts each one).
    let received = Atomic<Int>(0)
    private let bound: NIOLoopBoundBox<Figures>

    init(eventLoop: any EventLoop) {
        self.bound = .makeBoxSendingValue(Figures(), eventLoop: eventLoop)
    }

    /// The figures; only on the loop.
    var figures: Figures { self.bound.value }

    /// A copy of the figures, taken on the loop.
    struct Snapshot: Sendable {
        var latency: Histogram<UInt64>
        var received: Int
        var lastReceivedAt: UInt64
        var pongs: Int
        var closed: Int
    }

    var snapshot: Snapshot {
        let figures = self.figures
        return Snapshot(
            latency: figures.latency,
            received: self.received.load(ordering: .relaxed),
            lastReceivedAt: figures.lastReceivedAt,
            pongs: figures.pongs,
            closed: figures.closed
        )
    }
}
