import ChatTransport
import CoreMetrics
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The node's ear: one connection of its own that holds the node's advisory lock, LISTENs on the
/// cluster's channel, beats the node's heart and sweeps dead nodes — and after every (re)connect catches
/// up from the tables, because what was notified while it was away is gone.
extension ClusterNode {
    /// Listens until cancelled, connecting again a second after every failure (said once per outage).
    func listen() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await self.listenOnce(recovering: failures > 0)
            } catch {
                if Task.isCancelled { break }
                self.log.state.withLock { $0.listening = false }
                self.hub.metrics.clusterListenerUp.record(0)
                if failures == 0 {
                    self.logger.error(
                        "lost the connection to the cluster's database; retrying every second",
                        metadata: [
                            "chat.store": "\(self.store.location)", "chat.error": "\(ClusterStore.describe(error))",
                        ]
                    )
                }
                failures += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One listening connection, from connecting until it fails: it holds the node's lock, beats its
    /// heart and sweeps dead nodes while it delivers notifications.
    private func listenOnce(recovering: Bool) async throws {
        let configuration = self.store.connectionConfiguration
        let logger = self.logger
        let connection = try await withDeadline(Self.callLimit) {
            try await PostgresConnection.connect(
                on: ChatEventLoops.shared.next(),
                configuration: configuration,
                id: 1,
                logger: logger
            )
        }
        do {
            try await withDeadline(Self.callLimit) {
                try await self.store.lock(on: connection)
                try await self.store.heartbeat(on: connection)
            }
            try await connection.listen(on: ClusterStore.channel) { notifications in
                try await withThrowingTaskGroup { group in
                    group.addTask {
                        for try await notification in notifications {
                            self.received(notification.payload)
                        }
                        throw ListenerEnded()
                    }
                    group.addTask {
                        // Listening now: what was notified before is read from the tables.
                        try await withDeadline(Self.callLimit) { try await self.resync() }
                        self.log.state.withLock { $0.listening = true }
                        self.hub.metrics.clusterListenerUp.record(1)
                        if recovering { self.logger.notice("listening to the cluster again") }
                        self.log.listened.finish()
                        while true {
                            try await Task.sleep(for: Self.heartbeatInterval)
                            try await withDeadline(Self.heartbeatLimit) {
                                try await self.store.heartbeat(on: connection)
                                try await self.store.sweep(on: connection)
                                try await self.store.sweepDirects(on: connection)
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    /// The notifications ended without an error of their own (the connection closed).
    private struct ListenerEnded: Error, CustomStringConvertible {
        var description: String { "the listening connection closed" }
    }

    private func received(_ payload: String) {
        guard let notice = ClusterNotice(payload: payload) else { return }
        self.hub.metrics.clusterNotices.increment()
        switch notice {
        case .message(let room, let lastSeq, _):
            if self.hub.deliveredSeq(room).map({ $0 < lastSeq }) ?? false { self.want(room, through: lastSeq) }
        case .join, .leave, .nick, .typing:
            guard notice.node != self.store.node else { return }
            self.hub.apply(notice)
        case .direct(let toNode, _):
            if toNode == self.store.node { self.directs.ring() }
        }
    }

    /// After (re)listening: catch up every room, reload every roster, and put this node's members back.
    private func resync() async throws {
        let rooms = Array(self.hub.deliveredSeqs.keys)
        for (room, seq) in try await self.store.lastSeqs(of: rooms) { self.want(room, through: seq) }
        for room in rooms { self.hub.reconcile(room, roster: try await self.store.roster(of: room)) }
        try await self.store.reassert(self.hub.localMembers)
        // Direct messages written for members here while nobody listened.
        self.directs.ring()
    }
}
