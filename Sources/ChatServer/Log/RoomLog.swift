import ChatProtocol
import NIOCore

/// Where a room's messages get their seqs and become visible: memory (`MemoryLog`), a SQLite file
/// (`FileLog`) or a cluster's PostgreSQL (`ClusterLog`).
///
/// `RoomHub` holds one log and asks it, under a room's lock, what a post does; `ChatServer` runs it, reads
/// back through it what a joiner's history lost, and lists rooms with it. Whatever the server comes to keep
/// (accounts, kept direct messages, edits, retention) is a method here, written once per back end — not an
/// optional that every caller branches on. What only a cluster does (admission before the upgrade, names
/// unique on every node, members elsewhere) has a local default below that does what one server does.
protocol RoomLog: Sendable {
    /// The seq space: one per server run in memory, the store's for as long as the store lives.
    var epoch: String { get }

    /// Whether a room gives its messages seqs that stay invisible until the log has them durably
    /// (`Room.requiresConfirmation`, then `RoomHub.confirm`).
    var confirmsPosts: Bool { get }

    /// Whether the log holds messages that the rooms' histories have let go, to read back for a joiner.
    var readsBack: Bool { get }

    /// Whether the log is so far behind that new messages are refused for now (`rate_limited`).
    var isBehind: Bool { get }

    /// Where the log is, for the operator's log lines (never holding a secret).
    var location: String { get }

    /// Posts `text` from `user` in `room`, under its room's lock, so each room's messages reach the log in order.
    func post(_ text: String, id: MessageID?, from user: ChatUser, in room: inout Room) -> LogPost

    /// Whether a room nobody here is joining may be forgotten now.
    func canForget(_ state: RoomHub.RoomBox.State) -> Bool

    /// Gets `hub` ready before the first client: the rooms a store kept, or the cluster heard. Runs while
    /// `run(hub:)` runs.
    func ready(_ hub: RoomHub) async throws

    /// Writes (and, in a cluster, listens) until `finish()`, then has written everything posted; this is
    /// the one owner of the log's writing loop.
    func run(_ hub: RoomHub) async

    /// No more posts are coming: `run(hub:)` writes what is queued and returns.
    func finish()

    /// Room `room`'s messages with seqs in `seqs`, oldest first, within `maxBytes` of frames.
    func messages(room: RoomName, seqs: ClosedRange<UInt64>, maxBytes: Int) async throws -> [Room.StoredMessage]

    /// The seq of `room`'s first message posted at or after `time`; nil when there is none.
    func firstSeq(room: RoomName, atOrAfter time: Timestamp) async throws -> UInt64?

    /// `GET /rooms`: every room the log knows; nil when it cannot be read (the log said why).
    func roomList(_ hub: RoomHub) async -> RoomList?

    /// An error of the log's, in the words the operator's log gives it.
    func describe(_ error: any Error) -> String

    // MARK: Members (a cluster's members are on every node)

    /// Why `/healthz` says 503 and upgrades are refused; nil while the log can take clients.
    var unhealthiness: String? { get }

    /// Whether `admit` grants places before the `101`. A log whose joins make their members says no, so
    /// the pipeline upgrades at once instead of waiting a task hop for `admit`'s nil.
    var admitsBeforeUpgrade: Bool { get }

    /// Grants `request` its place before the upgrade (the room held, a name unique wherever the log
    /// reaches); nil when the join makes the member.
    func admit(_ request: ConnectRequest, to hub: RoomHub) async throws -> Claim?

    /// A client admitted by `admit` that will not join after all.
    func giveBack(_ claim: Claim, to hub: RoomHub)

    /// `admit` failed with `error`: says so to the operator and returns what the client is told (503).
    func refused(_ error: any Error) -> String

    /// Member `uid` of `box` asked to be called `name`.
    func rename(in box: RoomHub.RoomBox, uid: UserID, to name: String, hub: RoomHub)

    /// Member `uid` left.
    func release(uid: UserID)

    /// A direct message to a member of the room who is connected elsewhere (`RoomHub.DirectRoute.elsewhere`).
    func carry(_ direct: DirectMessage, clientID: MessageID?, from sender: ServerConnection)

    /// Member `user` of `room` is typing: tell its members elsewhere.
    func announceTyping(of user: ChatUser, in room: RoomName)
}

/// A client's place in its room, granted before it joins (`RoomLog.admit`).
typealias Claim = (user: ChatUser, box: RoomHub.RoomBox)

/// What posting did, for `RoomHub` to carry out under the room's lock.
enum LogPost: Sendable {
    /// The message is visible now, with its seq: ack it and broadcast it.
    case visible(Room.StoredMessage)
    /// The id was posted before and keeps its seq: ack it again.
    case duplicate(seq: UInt64)
    /// The log has it and makes it visible once it is durable (`RoomHub.confirm`, or a cluster's delivery).
    case pending
}

/// What one server on its own does: the join makes the member, names are this room's, nobody is elsewhere.
extension RoomLog {
    var unhealthiness: String? { nil }
    var admitsBeforeUpgrade: Bool { false }

    func admit(_ request: ConnectRequest, to hub: RoomHub) async throws -> Claim? { nil }

    func giveBack(_ claim: Claim, to hub: RoomHub) {}
    func refused(_ error: any Error) -> String { "cannot admit a client: \(self.describe(error))" }

    func rename(in box: RoomHub.RoomBox, uid: UserID, to name: String, hub: RoomHub) {
        hub.rename(in: box, userID: uid, to: name)
    }

    func release(uid: UserID) {}

    /// On one server every member of a room is connected to it, so there is nowhere else to carry it.
    func carry(_ direct: DirectMessage, clientID: MessageID?, from sender: ServerConnection) {}

    func announceTyping(of user: ChatUser, in room: RoomName) {}

    /// A room that gives its own seqs: what `Room.post` did, with a message the log must write handed to
    /// `queue` (a room of a log that confirms posts keeps it until `RoomHub.confirm`).
    func post(
        _ text: String,
        id: MessageID?,
        from user: ChatUser,
        in room: inout Room,
        queue: (Room.Unconfirmed) -> Void
    ) -> LogPost {
        switch room.post(from: user, id: id, text: text, at: Timestamp.now()) {
        case .posted(let stored): return .visible(stored)
        case .unconfirmed(let pending):
            queue(pending)
            return .pending
        case .duplicate(let seq): return .duplicate(seq: seq)
        case .duplicateUnconfirmed: return .pending
        }
    }

    /// A room whose seqs it gives is kept once it had a message, so its seq never starts over in an epoch.
    func canForget(_ state: RoomHub.RoomBox.State) -> Bool {
        state.room.isDisposable
    }
}
