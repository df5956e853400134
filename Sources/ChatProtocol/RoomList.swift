import Foundation
public import NIOCore

/// `GET /rooms`: the rooms a server (or a cluster) has, by name.
///
/// `{"rooms":[{"name":"lobby","members":3,"lastSeq":41,"lastActivity":"2026-12-01T14:03:05.123Z"}],
/// "truncated":false}` — `lastActivity` is when the last message was posted, absent when there is none.
public struct RoomList: Sendable, Equatable, Codable {
    /// One room.
    public struct Room: Sendable, Equatable, Codable {
        public var name: RoomName
        /// Members now (on every node of a cluster).
        public var members: Int
        /// The seq of its last message (0 before the first).
        public var lastSeq: UInt64
        /// When its last message was posted; nil when none was (or it is no longer known).
        public var lastActivity: Timestamp?

        public init(name: RoomName, members: Int, lastSeq: UInt64, lastActivity: Timestamp?) {
            self.name = name
            self.members = members
            self.lastSeq = lastSeq
            self.lastActivity = lastActivity
        }
    }

    /// The rooms, by name.
    public var rooms: [Room]
    /// Whether there are more than `limit` and only the first were listed.
    public var truncated: Bool

    /// The most rooms one answer lists.
    public static let limit = 10_000

    /// A list as it is, in the order given.
    public init(rooms: [Room], truncated: Bool = false) {
        self.rooms = rooms
        self.truncated = truncated
    }

    /// Takes at most `limit` of `rooms`, by name.
    public init(_ rooms: [Room]) {
        let sorted = rooms.sorted { $0.name.rawValue < $1.name.rawValue }
        self.rooms = Array(sorted.prefix(Self.limit))
        self.truncated = sorted.count > Self.limit
    }

    /// Reads the JSON text `encode()` writes.
    public init(json: String) throws {
        self = try JSONDecoder().decode(RoomList.self, from: Data(json.utf8))
    }

    /// The JSON text, in the key order shown above.
    public func encode() -> ByteBuffer {
        var writer = JSONWriter(buffer: ByteBuffer())
        writer.beginObject()
        writer.beginArray(key: "rooms")
        for room in self.rooms { room.write(into: &writer) }
        writer.endArray()
        writer.field("truncated", self.truncated)
        writer.endObject()
        return writer.buffer
    }
}

extension RoomList.Room {
    /// The room's own object: `{"name":…,"members":…,"lastSeq":…,"lastActivity":…}` (`chat rooms --json`).
    public func encode() -> ByteBuffer {
        var writer = JSONWriter(buffer: ByteBuffer())
        self.write(into: &writer)
        return writer.buffer
    }

    fileprivate func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", self.name)
        writer.field("members", self.members)
        writer.field("lastSeq", self.lastSeq)
        if let lastActivity = self.lastActivity { writer.field("lastActivity", lastActivity) }
        writer.endObject()
    }
}
