import ChatProtocol
import Logging
import NIOCore
import Synchronization

/// Rooms of a cluster on PostgreSQL (`chat serve --store postgres://…`): a message gets its seq in the
/// transaction that commits it, and every node delivers committed rows in seq order (`ClusterNode`).
///
/// This is what the node keeps while it runs — the posts waiting for PostgreSQL, the catch-up state, the
/// queues of presence changes and direct messages — and needs no hub: `ClusterNode` pairs it with the hub
/// for the work that touches rooms, so the hub can hold this log and nothing is built in two steps.
final class ClusterLog: RoomLog {
    let store: ClusterStore
    let logger: Logger
    /// Posts waiting for PostgreSQL to give them their seqs.
    let posts: StoreWriter<ClusterPost>
    let state = Mutex(ClusterNode.State())
    let directs = ClusterDirects()
    let catchUps: AsyncStream<RoomName>
    let catchUp: AsyncStream<RoomName>.Continuation
    let firstListen: AsyncStream<Void>
    let listened: AsyncStream<Void>.Continuation
    let presence: AsyncStream<ClusterNode.PresenceChange>
    let presenceChange: AsyncStream<ClusterNode.PresenceChange>.Continuation

    init(store: ClusterStore, configuration: ServerConfiguration, logger: Logger) {
        self.store = store
        self.logger = logger
        self.posts = StoreWriter(backlogLimit: configuration.storeBacklog)
        (self.catchUps, self.catchUp) = AsyncStream.makeStream()
        (self.presence, self.presenceChange) = AsyncStream.makeStream()
        (self.firstListen, self.listened) = AsyncStream.makeStream()
    }

    var epoch: String { self.store.epoch }
    /// A room here gives no seqs: PostgreSQL does, and the room takes committed messages as they come.
    var confirmsPosts: Bool { false }
    var readsBack: Bool { true }
    var isBehind: Bool { self.posts.isBehind }
    var location: String { self.store.location.description }

    func post(_ text: String, id: MessageID?, from user: ChatUser, in room: inout Room) -> LogPost {
        // Its seq comes from PostgreSQL; an id of the server's own makes a retried write safe too.
        self.posts.enqueue(
            ClusterPost(
                room: room.name,
                id: id ?? MessageID(RandomID.make(prefix: "s-", length: 12)),
                clientID: id != nil,
                from: user.name,
                uid: user.id,
                text: text,
                ts: Timestamp.now()
            )
        )
        return .pending
    }

    /// A cluster room's seqs live in the database: with no member here, it need not be kept.
    func canForget(_ state: RoomHub.RoomBox.State) -> Bool {
        state.connections.isEmpty
    }

    /// Clients are admitted once the node hears the cluster, so its first welcome is complete.
    func ready(_ hub: RoomHub) async throws {
        for await _ in self.firstListen { return }
    }

    func run(_ hub: RoomHub) async {
        await ClusterNode(log: self, hub: hub).run()
    }

    func finish() {
        self.posts.finish()
    }

    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage] {
        try await withDeadline(ClusterNode.callLimit) {
            try await self.store.messages(room: room, seqs: seqs, maxBytes: maxBytes)
        }
    }

    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64? {
        try await withDeadline(ClusterNode.callLimit) { try await self.store.firstSeq(room: room, atOrAfter: time) }
    }

    /// Every room of the cluster, from its database.
    func roomList(_ hub: RoomHub) async -> RoomList? {
        do {
            return try await withDeadline(ClusterNode.callLimit) { try await self.store.roomList() }
        } catch {
            self.logger.error(
                "cannot read the room list from the store",
                metadata: ["chat.store": "\(self.store.location)", "chat.error": "\(ClusterStore.describe(error))"]
            )
            return nil
        }
    }

    func describe(_ error: any Error) -> String { ClusterStore.describe(error) }

    // MARK: Members on every node

    /// Whether a load balancer should send clients here: the node listens to PostgreSQL and can write to it.
    var isHealthy: Bool {
        self.state.withLock { $0.listening && !$0.writeFailing }
    }

    var unhealthiness: String? {
        self.isHealthy ? nil : Self.unreachable
    }

    static let unreachable = "this node cannot reach the cluster's database"

    var admitsBeforeUpgrade: Bool { true }

    func admit(_ request: ConnectRequest, to hub: RoomHub) async throws -> Claim? {
        try await ClusterNode(log: self, hub: hub).admit(request)
    }

    /// The room goes back, and the other nodes are told the member left.
    func giveBack(_ claim: Claim, to hub: RoomHub) {
        hub.cancelJoin(claim.box)
        self.release(uid: claim.user.id)
    }

    func refused(_ error: any Error) -> String {
        self.logger.warning(
            "cannot admit a client without the cluster's database",
            metadata: ["chat.error": "\(ClusterStore.describe(error))"]
        )
        return Self.unreachable
    }

    /// The database makes the name unique, then every node renames the member.
    func rename(in box: RoomHub.RoomBox, uid: UserID, to name: String, hub: RoomHub) {
        guard let current = box.state.withLock({ $0.room.members.first { $0.id == uid } }) else { return }
        self.presenceChange.yield(.rename(box, uid: uid, previous: current.name, requested: name))
    }

    /// The other nodes are told, in order with the member's renames.
    func release(uid: UserID) {
        self.presenceChange.yield(.release(uid: uid))
    }

    /// The sender gets its ack and the message once it is written, `no_such_user` if the addressee left
    /// meanwhile, `rate_limited` if it cannot be written.
    func carry(_ direct: DirectMessage, clientID: MessageID?, from sender: ServerConnection) {
        self.directs.send(
            ClusterDirects.Outgoing(
                direct: direct,
                frame: ServerFrame.direct(direct).encode(),
                clientID: clientID,
                sender: sender
            )
        )
    }

    /// Nothing is written: a notice lost on the way costs a moment's "is typing", nothing else.
    func announceTyping(of user: ChatUser, in room: RoomName) {
        let payload = ClusterNotice.typing(room: room, node: self.store.node, user: user).payload
        // A bridge from the synchronous frame handler: the notice is not awaited by anyone.
        Task { await self.store.notify([payload]) }
    }
}
