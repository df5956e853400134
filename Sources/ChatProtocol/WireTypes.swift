/// A member of a room as the server names it: a stable id for this connection and a unique display name.
public struct ChatUser: Sendable, Hashable, Codable {
    /// The server-assigned id of the connection, unique for the server's lifetime.
    public var id: UserID
    /// The display name, unique in the room (case-insensitively).
    public var name: String

    /// Creates a user.
    public init(id: UserID, name: String) {
        self.id = id
        self.name = name
    }
}

/// A chat message as every member of a room receives it.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// The room the message was posted in.
    public var room: RoomName
    /// The room's sequence number of the message: strictly increasing within an epoch.
    public var seq: UInt64
    /// The message id: the sender's own id, or one the server made up when the sender gave none.
    public var id: MessageID
    /// The sender's display name at the time of sending.
    public var from: String
    /// The sender's user id.
    public var uid: UserID
    /// The text, exactly as sent.
    public var text: String
    /// When the server accepted the message (RFC 3339 UTC with milliseconds on the wire).
    public var ts: Timestamp

    /// Creates a message.
    public init(room: RoomName, seq: UInt64, id: MessageID, from: String, uid: UserID, text: String, ts: Timestamp) {
        self.room = room
        self.seq = seq
        self.id = id
        self.from = from
        self.uid = uid
        self.text = text
        self.ts = ts
    }
}

/// A join, leave or nick event: who entered, left or renamed.
public struct PresenceEvent: Sendable, Hashable, Codable {
    /// The room the event happened in.
    public var room: RoomName
    /// The user who joined, left or renamed (with the new name for `nick`).
    public var user: ChatUser
    /// For `nick`: the name the user had before.
    public var previousName: String?
    /// When the event happened (RFC 3339 UTC with milliseconds on the wire).
    public var ts: Timestamp

    /// Creates a presence event.
    public init(room: RoomName, user: ChatUser, previousName: String? = nil, ts: Timestamp) {
        self.room = room
        self.user = user
        self.previousName = previousName
        self.ts = ts
    }
}

/// Limits a server enforces, announced in `welcome` so clients can check before sending.
public struct ServerLimits: Sendable, Hashable, Codable {
    /// The largest message text accepted, in UTF-8 bytes.
    public var maxMessageBytes: Int
    /// The largest WebSocket frame accepted; a larger frame closes the connection with 1009.
    public var maxFrameBytes: Int
    /// How many messages the room's history keeps.
    public var historySize: Int
    /// Messages a second each connection may send on average (0: no limit).
    public var rateLimit: Double
    /// Messages a connection may send at once, above the average.
    public var burst: Int

    /// Creates a set of limits.
    public init(maxMessageBytes: Int, maxFrameBytes: Int, historySize: Int, rateLimit: Double = 0, burst: Int = 0) {
        self.maxMessageBytes = maxMessageBytes
        self.maxFrameBytes = maxFrameBytes
        self.historySize = historySize
        self.rateLimit = rateLimit
        self.burst = burst
    }
}

/// The first frame of every connection: who you are, who is here and where the room's history stands.
public struct Welcome: Sendable, Hashable, Codable {
    /// The room joined.
    public var room: RoomName
    /// The user this connection is, with the name the server assigned (it may differ from the one asked for).
    public var you: ChatUser
    /// Everyone in the room, this connection included, in order of joining — in a large room (more members
    /// than the server's presence limit) only the first ones.
    public var users: [ChatUser]
    /// How many members the room has, this connection included (absent from older servers).
    public var userCount: Int?
    /// The latest seq in the room (0 when nothing was posted yet).
    public var seq: UInt64
    /// The seq space: a new epoch means seqs from another epoch cannot be resumed.
    public var epoch: String
    /// The server's limits.
    public var limits: ServerLimits
    /// Present when the client asked to resume with `since`: whether every message after it is replayed.
    public var recovered: Bool?
    /// With `recovered: false`: the first seq the server still has (the gap is `since+1 ..< firstSeq`).
    public var firstSeq: UInt64?

    /// Creates a welcome.
    public init(
        room: RoomName,
        you: ChatUser,
        users: [ChatUser],
        userCount: Int? = nil,
        seq: UInt64,
        epoch: String,
        limits: ServerLimits,
        recovered: Bool? = nil,
        firstSeq: UInt64? = nil
    ) {
        self.room = room
        self.you = you
        self.users = users
        self.userCount = userCount
        self.seq = seq
        self.epoch = epoch
        self.limits = limits
        self.recovered = recovered
        self.firstSeq = firstSeq
    }
}

/// The server's acknowledgement of a client message that carried an id.
public struct Ack: Sendable, Hashable, Codable {
    /// The client's message id.
    public var id: MessageID
    /// The seq the message got; nil for a direct message, which has none.
    public var seq: UInt64?

    /// Creates an ack.
    public init(id: MessageID, seq: UInt64?) {
        self.id = id
        self.seq = seq
    }
}

/// An error the server reports to one client; the connection stays open.
public struct ServerError: Sendable, Hashable, Codable, Error, CustomStringConvertible {
    /// A machine-readable code such as `too_large` or `bad_request`.
    public var code: String
    /// A sentence for humans.
    public var message: String
    /// The id of the client message this is about, when it had one.
    public var id: MessageID?
    /// With `rate_limited`: seconds to wait before sending again.
    public var retryAfter: Double?

    /// Creates an error frame.
    public init(code: String, message: String, id: MessageID? = nil, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.id = id
        self.retryAfter = retryAfter
    }

    public var description: String { "\(self.code): \(self.message)" }
}
