/// Why a server could not run.
public struct ChatServerError: Error, Equatable, CustomStringConvertible {
    private enum Base: Equatable {
        case bindFailed(host: String, port: Int, reason: String)
        case overCapacity
        case storeFailed(path: String, reason: String)
        case tlsFailed(String)
        case unreadableRow(String)
    }

    private let base: Base

    /// The address could not be bound (in use, not local, permission denied).
    public static func bindFailed(host: String, port: Int, reason: String) -> ChatServerError {
        ChatServerError(base: .bindFailed(host: host, port: port, reason: reason))
    }

    /// A connection was refused because the server is at `maxConnections`.
    public static let overCapacity = ChatServerError(base: .overCapacity)

    /// The `--store` file could not be opened, read or written.
    public static func storeFailed(path: String, reason: String) -> ChatServerError {
        ChatServerError(base: .storeFailed(path: path, reason: reason))
    }

    /// The TLS certificate or key cannot be used.
    public static func tlsFailed(_ reason: String) -> ChatServerError {
        ChatServerError(base: .tlsFailed(reason))
    }

    /// A row of a store cannot be read back as what it was: never written by this server (the database or
    /// file was changed by hand).
    static func unreadableRow(_ reason: String) -> ChatServerError {
        ChatServerError(base: .unreadableRow(reason))
    }

    public var description: String {
        switch self.base {
        case .overCapacity:
            "the server is at its connection limit"
        case .bindFailed(let host, let port, let reason):
            "cannot listen on \(host):\(port): \(reason)"
        case .storeFailed(let path, let reason):
            "store \(path): \(reason)"
        case .tlsFailed(let reason):
            reason
        case .unreadableRow(let reason):
            "a stored row cannot be read back: \(reason)"
        }
    }
}
