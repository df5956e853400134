/// What one `chat bench` run does: how many connections of each kind, how fast, for how long.
public struct BenchPlan: Sendable {
    /// How publishers pace themselves.
    public enum Rate: Sendable, Equatable {
        /// This many messages a second in total, spread evenly over the publishers.
        case perSecond(Double)
        /// As fast as the server takes them, each publisher keeping `window` messages in flight (sent and
        /// not yet back as its own broadcast).
        case max(window: Int)
    }

    /// Where to connect: `ws://HOST:PORT/PATH` (the path names the room on a chat server).
    public var host: String
    public var port: Int
    public var path: String
    /// Receive-only connections.
    public var subscribers: Int
    /// Connections that send (and, like every member of a room, receive everything too).
    public var publishers: Int
    public var rate: Rate
    /// Bytes of text per message, including the 22-byte marker that carries the send time.
    public var size: Int
    /// How long publishers send, in seconds.
    public var duration: Double
    /// Connections are spread round-robin over this many rooms (see `path(room:)`).
    public var rooms: Int
    /// The server process to sample for CPU time and memory (Linux `/proc`), when known.
    public var serverPID: Int32?
    /// How many connection attempts are in flight at once.
    public var connectConcurrency: Int
    /// Where publishers connect instead, `host` and `port` (another node of the same cluster, so the
    /// messages cross from one node to the other); nil puts them on the same server as subscribers.
    public var publishTarget: (host: String, port: Int)?

    /// Messages each publisher keeps in flight with `.max` unless told otherwise.
    public static let defaultWindow = 256

    public init(
        host: String,
        port: Int,
        path: String,
        subscribers: Int = 100,
        publishers: Int = 1,
        rate: Rate = .max(window: BenchPlan.defaultWindow),
        size: Int = 64,
        duration: Double = 10,
        rooms: Int = 1,
        serverPID: Int32? = nil,
        connectConcurrency: Int = 200,
        publishTarget: (host: String, port: Int)? = nil
    ) {
        self.publishTarget = publishTarget
        self.host = host
        self.port = port
        self.path = path
        self.subscribers = subscribers
        self.publishers = publishers
        self.rate = rate
        self.size = size
        self.duration = duration
        self.rooms = rooms
        self.serverPID = serverPID
        self.connectConcurrency = connectConcurrency
    }

    /// The path of room `index`: the URL's own path for a single room; else `/ws/bench-N` for chat's
    /// lobby path `/ws`, and `PATH-N` for any other.
    func path(room index: Int) -> String {
        guard self.rooms > 1 else { return self.path }
        let (path, query) = self.splitQuery
        if path.hasSuffix("/ws") { return "\(path)/bench-\(index)\(query)" }
        return "\(path)-\(index)\(query)"
    }

    private var splitQuery: (String, String) {
        guard let mark = self.path.firstIndex(of: "?") else { return (self.path, "") }
        return (String(self.path[..<mark]), String(self.path[mark...]))
    }
}
