public import NIOCore

/// Every frame a server sends to a client (PROTOCOL.md, "Server frames").
public enum ServerFrame: Sendable, Hashable {
    case welcome(Welcome)
    case message(ChatMessage)
    /// A message to one member: only the addressee and the sender get it.
    case direct(DirectMessage)
    case join(PresenceEvent)
    case leave(PresenceEvent)
    case nick(PresenceEvent)
    /// A member is composing a message (not kept; clients forget it after `Typing.expiry`).
    case typing(PresenceEvent)
    case ack(Ack)
    case error(ServerError)

    /// The frame's `type` field.
    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .message: "message"
        case .direct: "direct"
        case .join: "join"
        case .leave: "leave"
        case .nick: "nick"
        case .typing: "typing"
        case .ack: "ack"
        case .error: "error"
        }
    }
}

extension ServerFrame {
    /// Encodes the frame as one line of compact JSON.
    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var writer = JSONWriter(buffer: allocator.buffer(capacity: 128))
        writer.beginObject()
        writer.field("type", self.type)
        switch self {
        case .welcome(let welcome):
            writer.field("room", welcome.room)
            writer.key("you")
            writer.write(welcome.you)
            writer.beginArray(key: "users")
            for user in welcome.users { writer.write(user) }
            writer.endArray()
            if let userCount = welcome.userCount { writer.field("userCount", userCount) }
            writer.field("seq", welcome.seq)
            writer.field("epoch", welcome.epoch)
            writer.key("limits")
            writer.beginObject()
            writer.field("maxMessageBytes", welcome.limits.maxMessageBytes)
            writer.field("maxFrameBytes", welcome.limits.maxFrameBytes)
            writer.field("historySize", welcome.limits.historySize)
            writer.field("rateLimit", welcome.limits.rateLimit)
            writer.field("burst", welcome.limits.burst)
            writer.endObject()
            if let recovered = welcome.recovered { writer.field("recovered", recovered) }
            if let firstSeq = welcome.firstSeq { writer.field("firstSeq", firstSeq) }
        case .message(let message):
            writer.field("room", message.room)
            writer.field("seq", message.seq)
            writer.field("id", message.id)
            writer.field("from", message.from)
            writer.field("uid", message.uid)
            writer.field("text", message.text)
            writer.field("ts", message.ts)
        case .direct(let direct):
            writer.field("room", direct.room)
            writer.field("id", direct.id)
            writer.field("from", direct.from)
            writer.field("uid", direct.uid)
            writer.field("to", direct.to)
            writer.field("toUid", direct.toUid)
            writer.field("text", direct.text)
            writer.field("ts", direct.ts)
        case .join(let event), .leave(let event), .nick(let event), .typing(let event):
            writer.field("room", event.room)
            writer.key("user")
            writer.write(event.user)
            writer.field("previousName", event.previousName)
            writer.field("ts", event.ts)
        case .ack(let ack):
            writer.field("id", ack.id)
            if let seq = ack.seq { writer.field("seq", seq) }
        case .error(let error):
            writer.field("code", error.code)
            writer.field("message", error.message)
            writer.field("id", error.id)
            if let retryAfter = error.retryAfter { writer.field("retryAfter", retryAfter) }
        }
        writer.endObject()
        return writer.buffer
    }
}

extension JSONWriter {
    fileprivate mutating func write(_ user: ChatUser) {
        self.beginObject()
        self.field("id", user.id)
        self.field("name", user.name)
        self.endObject()
    }
}

extension ServerFrame {
    /// `message`, `direct` and `ack` frames — the ones that come by the thousand — decoded without Foundation; nil
    /// for every other frame, and for anything unusual, which `JSONDecoder` then decodes (or rejects).
    public static func decodeFast(_ bytes: UnsafeRawBufferPointer) -> ServerFrame? {
        guard let object = FlatJSONObject.parse(bytes) else { return nil }
        switch object.string("type") {
        case "message":
            guard let room = object.string("room").flatMap(RoomName.init(rawValue:)), let seq = object.integer("seq"),
                let id = object.string("id"), let from = object.string("from"), let uid = object.string("uid"),
                let text = object.string("text"), let ts = object.string("ts").flatMap(Timestamp.init(rfc3339:))
            else { return nil }
            return .message(
                ChatMessage(room: room, seq: seq, id: MessageID(id), from: from, uid: UserID(uid), text: text, ts: ts)
            )
        case "direct":
            guard let room = object.string("room").flatMap(RoomName.init(rawValue:)), let id = object.string("id"),
                let from = object.string("from"), let uid = object.string("uid"), let to = object.string("to"),
                let toUid = object.string("toUid"), let text = object.string("text"),
                let ts = object.string("ts").flatMap(Timestamp.init(rfc3339:))
            else { return nil }
            return .direct(
                DirectMessage(
                    room: room,
                    id: MessageID(id),
                    from: from,
                    uid: UserID(uid),
                    to: to,
                    toUid: UserID(toUid),
                    text: text,
                    ts: ts
                )
            )
        case "ack":
            guard let id = object.string("id") else { return nil }
            // A direct message's ack has no seq; any other value there is for `JSONDecoder` to judge.
            guard let seq = object.integer("seq") else {
                return object.value(for: "seq") == nil ? .ack(Ack(id: MessageID(id), seq: nil)) : nil
            }
            return .ack(Ack(id: MessageID(id), seq: seq))
        default:
            return nil
        }
    }
}

extension ServerFrame: Decodable {
    private enum CodingKeys: String, CodingKey {
        case type
    }

    /// Decodes a frame from its JSON text; unknown `type`s throw `ServerFrame.UnknownType`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        // Every payload struct reads its own keys from the same object, so the JSON is parsed once.
        switch type {
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "message": self = .message(try ChatMessage(from: decoder))
        case "join": self = .join(try PresenceEvent(from: decoder))
        case "leave": self = .leave(try PresenceEvent(from: decoder))
        case "nick": self = .nick(try PresenceEvent(from: decoder))
        case "direct": self = .direct(try DirectMessage(from: decoder))
        case "typing": self = .typing(try PresenceEvent(from: decoder))
        case "ack": self = .ack(try Ack(from: decoder))
        case "error": self = .error(try ServerError(from: decoder))
        default: throw UnknownType(type: type)
        }
    }

    /// A frame whose `type` this version does not know; clients skip such frames.
    public struct UnknownType: Error, Hashable {
        /// The unknown type.
        public var type: String

        /// Creates the error.
        public init(type: String) {
            self.type = type
        }
    }
}
