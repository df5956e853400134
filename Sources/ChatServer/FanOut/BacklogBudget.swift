import NIOCore
import Synchronization

/// What all connections' backlogs may pin together, and who goes first when it is spent.
///
/// Each connection adds and releases its own bytes (an atomic add, no lock per frame). A connection with
/// a backlog is listed here (a lock when its backlog starts and ends, not per frame); when an append takes
/// the total over the budget, the listed connections with the largest backlogs that are not reading are
/// closed until the rest fits. A connection whose socket took data within the last `progressGrace` is a
/// reader and is never chosen: its room waits for it instead (`OutboundBacklog`).
final class BacklogBudget: Sendable {
    /// What one listed connection tells the budget.
    protocol Member: AnyObject, Sendable {
        /// The bytes its backlog pins now (read from any thread).
        var pinnedBacklogBytes: Int { get }
        /// Since when its socket has taken no data, in uptime nanoseconds; `UInt64.max` while it takes data.
        var stalledSinceNanoseconds: UInt64 { get }
        /// Closes it as too slow (from any thread).
        func evictForBudget()
    }

    /// The total the budget allows.
    let limit: Int
    private let progressGrace: TimeAmount
    private let used = Atomic<Int>(0)
    private let members = Mutex<[ObjectIdentifier: any Member]>([:])
    /// Uptime nanoseconds of the last eviction pass, so a total that stays over the limit (every member a
    /// reader) costs one pass per `progressGrace / 4`, not one per frame.
    private let lastPass = Atomic<UInt64>(0)

    init(limit: Int, progressGrace: TimeAmount) {
        self.limit = limit
        self.progressGrace = progressGrace
    }

    /// The bytes pinned now, over every connection.
    var usedBytes: Int { self.used.load(ordering: .relaxed) }

    /// `member` has a backlog now.
    func list(_ member: any Member) {
        self.members.withLock { $0[ObjectIdentifier(member)] = member }
    }

    /// `member` has no backlog any more.
    func unlist(_ member: any Member) {
        _ = self.members.withLock { $0.removeValue(forKey: ObjectIdentifier(member)) }
    }

    /// Counts `bytes` more; when the total is over the limit, closes the largest backlogs of clients that
    /// stopped reading until the rest fits.
    func add(_ bytes: Int, now: NIODeadline) {
        let total = self.used.wrappingAdd(bytes, ordering: .relaxed).newValue
        guard total > self.limit else { return }
        let nanoseconds = now.uptimeNanoseconds
        let last = self.lastPass.load(ordering: .relaxed)
        guard nanoseconds &- last >= UInt64(self.progressGrace.nanoseconds / 4) || last == 0,
            self.lastPass.compareExchange(expected: last, desired: nanoseconds, ordering: .relaxed).exchanged
        else { return }
        self.evict(over: total - self.limit, now: nanoseconds)
    }

    /// Counts `bytes` less.
    func release(_ bytes: Int) {
        self.used.wrappingSubtract(bytes, ordering: .relaxed)
    }

    private func evict(over excess: Int, now: UInt64) {
        let grace = UInt64(self.progressGrace.nanoseconds)
        let candidates = self.members.withLock { members in
            members.values.compactMap { member -> (member: any Member, bytes: Int)? in
                let stalled = member.stalledSinceNanoseconds
                guard stalled != .max, now >= stalled, now - stalled >= grace else { return nil }
                return (member, member.pinnedBacklogBytes)
            }
        }
        var freed = 0
        for candidate in candidates.sorted(by: { $0.bytes > $1.bytes }) where freed < excess {
            candidate.member.evictForBudget()
            freed += candidate.bytes
        }
    }
}
