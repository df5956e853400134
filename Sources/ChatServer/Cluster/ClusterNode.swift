import ChatProtocol
import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket
import PostgresNIO
import Synchronization

/// This server as one node of a cluster: it writes posts to PostgreSQL in batches, listens for what the
/// other nodes committed and who joined or left there, and keeps its rooms in step with the tables.
///
/// A notification is only a doorbell. Whatever a node delivers it reads from `chat_messages` in seq
/// order, so a lost notification (the listening connection dropped, PostgreSQL restarted) costs time,
/// never a message: on every (re)connect the node listens first, then catches up from the tables, and it
/// polls its rooms' last seqs every `pollInterval` as a backstop.
///
/// A view of the log's state with the hub whose rooms it keeps in step: made wherever both are at hand.
struct ClusterNode: Sendable {
    static let pollInterval = Duration.seconds(1)
    /// How often the node proves it is alive and looks for nodes that are not.
    static let heartbeatInterval = Duration.seconds(1)
    /// Rows read per catch-up query.
    static let fetchLimit = 1000
    /// How long any one database call may take before it is given up and retried (see `withDeadline`).
    static let callLimit = Duration.seconds(10)
    /// The same for the listening connection's heartbeat: a connection that stopped answering is
    /// replaced well within the grace other nodes give this one (`ClusterStore.nodeGrace`).
    static let heartbeatLimit = Duration.seconds(2)

    /// What changes about the node while it runs.
    struct State {
        /// Rooms whose members here have not seen everything committed, and how far they should get.
        var wanted: [RoomName: UInt64] = [:]
        /// Whether a room is queued for (or in) a catch-up, so it is queued once.
        var queued: Set<RoomName> = []
        var listening = false
        var writeFailing = false
    }

    /// Presence changes written one after the other, so a member's rename and leave land in order.
    enum PresenceChange: Sendable {
        case release(uid: UserID)
        case rename(RoomHub.RoomBox, uid: UserID, previous: String, requested: String)
    }

    let log: ClusterLog
    let hub: RoomHub

    var store: ClusterStore { self.log.store }
    var logger: Logger { self.log.logger }
    var directs: ClusterDirects { self.log.directs }

    /// Runs the writer, the listener and the catch-up until the writer finished (graceful shutdown:
    /// `ClusterLog.finish()`), then leaves the cluster. The pool (`ClusterStore.pool`) runs beside the
    /// server and must outlive it.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await abandoningOnCancel { await self.listen() } }
            group.addTask { await self.poll() }
            group.addTask { await self.deliverCatchUps() }
            group.addTask { await self.writePresence() }
            group.addTask { await self.writeDirects() }
            group.addTask { await self.takeDirects() }
            await self.log.posts.run(
                store: self.store.location.description,
                logger: self.logger,
                describe: ClusterStore.describe,
                write: self.write
            ) { batch, write in
                self.hub.acknowledge(batch, write)
                // Delivered at once when nothing is missing before them; what is (another node's rows
                // first, or this batch's behind a gap) is read in order up to each room's last seq.
                for (room, rows) in write.added { self.hub.deliver(rows, in: room) }
                for (room, last) in write.lastSeqs { self.want(room, through: last) }
            }
            // Every client is gone and what they posted is written: this node's rows go (the other nodes
            // are told its members left), then the pool and the listener stop.
            self.log.presenceChange.finish()
            self.directs.finish()
            self.log.catchUp.finish()
            self.log.listened.finish()
            await self.store.deregister()
            group.cancelAll()
        }
    }

    private func write(_ batch: [ClusterPost]) async throws -> ClusterWrite {
        let started = ContinuousClock.now
        do {
            let write = try await withDeadline(Self.callLimit) { try await self.store.write(batch) }
            self.hub.metrics.clusterCommitSeconds.recordSeconds((ContinuousClock.now - started).inSeconds)
            self.log.state.withLock { $0.writeFailing = false }
            return write
        } catch {
            self.log.state.withLock { $0.writeFailing = true }
            throw error
        }
    }

    // MARK: Joining and leaving

    /// Makes room `request.room` ready here (loading it from the database on first use) and admits the
    /// client under a name unique on every node. The room is held until `hub.join(…, claimed:)`.
    func admit(_ request: ConnectRequest) async throws -> Claim {
        let box: RoomHub.RoomBox
        if let reserved = self.hub.reserve(request.room) {
            box = reserved
        } else {
            let historySize = self.hub.configuration.historySize
            let (lastSeq, messages) = try await withDeadline(Self.callLimit) {
                try await self.store.load(room: request.room, newest: historySize)
            }
            let members = try await withDeadline(Self.callLimit) { try await self.store.roster(of: request.room) }
            box = self.hub.install(
                RoomHub.LoadedRoom(name: request.room, lastSeq: lastSeq, messages: messages, members: members)
            )
            // Whatever was committed or announced while it loaded is found by the next poll; this is sooner.
            self.want(request.room, through: lastSeq)
        }
        do {
            try await self.catchUp(request.room, toResume: request)
            let requestedName = request.name ?? RandomID.make(prefix: "guest-", length: 4)
            let user = try await withDeadline(Self.callLimit) {
                try await self.store.claim(
                    room: request.room,
                    uid: UserID(RandomID.make(prefix: "u-")),
                    requestedName: requestedName
                )
            }
            return (user, box)
        } catch {
            self.hub.cancelJoin(box)
            throw error
        }
    }

    private func writePresence() async {
        for await change in self.log.presence {
            for attempt in 1...3 {
                do {
                    switch change {
                    case .release(let uid):
                        try await withDeadline(Self.callLimit) { try await self.store.release(uid: uid) }
                    case .rename(let box, let uid, let previous, let requested):
                        let user = try await withDeadline(Self.callLimit) {
                            try await self.store.rename(room: box.name, uid: uid, from: previous, to: requested)
                        }
                        if let user { self.hub.rename(in: box, to: user) }
                    }
                    break
                } catch {
                    // A leave that cannot be written at all is written by `reassert` once the listener is back.
                    guard attempt < 3, !Task.isCancelled else {
                        self.logger.warning(
                            "cannot write a presence change to the cluster",
                            metadata: ["chat.error": "\(ClusterStore.describe(error))"]
                        )
                        break
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    // MARK: Catching up

    /// Room `name` has committed messages up to `seq`: read what this node has not delivered yet.
    func want(_ name: RoomName, through seq: UInt64) {
        let queue = self.log.state.withLock { state -> Bool in
            state.wanted[name] = max(state.wanted[name] ?? 0, seq)
            return state.queued.insert(name).inserted
        }
        if queue { self.log.catchUp.yield(name) }
    }

    /// A client resuming from a seq this node has not delivered yet — it was on a node that had, and came
    /// here when that one went away — is admitted once this node has delivered through it: otherwise its
    /// resume would look like a seq from the future and be refused as a gap.
    private func catchUp(_ room: RoomName, toResume request: ConnectRequest) async throws {
        guard let since = request.since, request.epoch == nil || request.epoch == self.hub.epoch else { return }
        while let delivered = self.hub.deliveredSeq(room), delivered < since {
            // Nothing more is committed: the seq was never given (the room's replay says so).
            guard try await self.readAndDeliver(room, after: delivered) > delivered else { return }
        }
    }

    /// Reads up to `fetchLimit` of room `name`'s committed messages after `delivered` and delivers them;
    /// returns the last seq the room has delivered then.
    private func readAndDeliver(_ name: RoomName, after delivered: UInt64) async throws -> UInt64 {
        let messages = try await withDeadline(Self.callLimit) {
            try await self.store.messages(room: name, after: delivered, limit: Self.fetchLimit)
        }
        self.hub.metrics.clusterCatchUps.increment()
        return self.hub.deliver(messages, in: name) ?? delivered
    }

    private func deliverCatchUps() async {
        for await name in self.log.catchUps {
            while !Task.isCancelled {
                guard let delivered = self.hub.deliveredSeq(name) else {
                    self.log.state.withLock { state in
                        state.queued.remove(name)
                        state.wanted[name] = nil
                    }
                    break
                }
                let done = self.log.state.withLock { state -> Bool in
                    guard delivered >= state.wanted[name] ?? 0 else { return false }
                    state.queued.remove(name)
                    return true
                }
                if done { break }
                do {
                    if try await self.readAndDeliver(name, after: delivered) == delivered {
                        // Wanted more than is committed (a seq from a rolled-back write): settle for what is.
                        self.log.state.withLock { $0.wanted[name] = delivered }
                    }
                } catch {
                    self.logger.warning(
                        "cannot read committed messages; retrying",
                        metadata: ["chat.room": "\(name)", "chat.error": "\(ClusterStore.describe(error))"]
                    )
                    try? await Task.sleep(for: Self.pollInterval)
                }
            }
        }
    }

    /// The backstop for lost notifications: every room's last seq, once a second.
    private func poll() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.pollInterval)
            let rooms = Array(self.hub.deliveredSeqs.keys)
            guard !rooms.isEmpty else { continue }
            do {
                let seqs = try await withDeadline(Self.callLimit) { try await self.store.lastSeqs(of: rooms) }
                for (room, seq) in seqs { self.want(room, through: seq) }
            } catch {
                self.logger.debug(
                    "cannot poll the rooms' seqs",
                    metadata: ["chat.error": "\(ClusterStore.describe(error))"]
                )
            }
        }
    }
}
