import Logging
public import ServiceLifecycle

/// Where `chat serve` keeps its rooms' messages: the one value that says which of the three logs it runs.
public enum ServerStore: Sendable {
    /// In memory: history lives as long as the process.
    case memory
    /// One SQLite file (`--store FILE`), opened and locked by the caller.
    case file(MessageStore)
    /// The PostgreSQL database of a cluster this server is a node of (`--store postgres://…`): rooms,
    /// seqs, history and members are shared with every other node on it.
    case cluster(ClusterStore)

    /// What must run as services before the server, in the same `ServiceGroup` (a group stops its
    /// services last to first, so these outlive it): a cluster's connection pool.
    public var services: [any Service] {
        switch self {
        case .memory, .file: []
        case .cluster(let cluster): [cluster.pool]
        }
    }

    /// Closes what the caller opened, once the server has stopped (a file's lock is released).
    public func close() async {
        switch self {
        case .memory, .cluster: break
        case .file(let store): await store.close()
        }
    }

    /// The log a server on this store runs its rooms on.
    func log(configuration: ServerConfiguration, logger: Logger) -> any RoomLog {
        switch self {
        case .memory: MemoryLog()
        case .file(let store): FileLog(store: store, configuration: configuration, logger: logger)
        case .cluster(let cluster): ClusterLog(store: cluster, configuration: configuration, logger: logger)
        }
    }
}
