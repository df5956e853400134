public import ChatClient
public import ChatProtocol
public import ChatServer
public import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// A running in-process server, as the body of `withChatServer` sees it.
public struct TestServer: Sendable {
    /// The port it bound on 127.0.0.1.
    public let port: Int
    /// Starts the server's graceful shutdown now (it also happens after the body anyway).
    public let shutdown: @Sendable () async -> Void

    /// The URL of `room` on this server.
    public func url(room: RoomName = .lobby) -> ChatURL {
        // The URL is built from known-good parts, so parsing cannot fail.
        try! ChatURL(parsing: "ws://127.0.0.1:\(self.port)/ws").with(room: room)
    }

    /// A client configuration for `room` as `name`.
    public func client(
        _ name: String?,
        room: RoomName = .lobby,
        history: Int? = nil,
        since: UInt64? = nil
    )
        -> ClientConfiguration
    {
        ClientConfiguration(url: self.url(room: room), name: name, since: since, history: history)
    }
}

/// Why `withChatServer` failed around the body.
public struct TestServerError: Error, CustomStringConvertible {
    public let description: String
}

/// Runs a chat server on 127.0.0.1 port 0, runs `body` against it (within `timeout`), then shuts the
/// server down gracefully and waits for it to stop — so every test also proves a clean shutdown.
@discardableResult
public func withChatServer<T: Sendable>(
    _ configuration: ServerConfiguration = ServerConfiguration(),
    logger: Logger = Logger(label: "chat.test", factory: { _ in SwiftLogNoOpLogHandler() }),
    store: ServerStore = .memory,
    timeout: Duration = .seconds(20),
    _ body: @escaping @Sendable (TestServer) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    if configuration.metrics == nil {
        // As `chat serve` does: a registry per server, so tests running side by side never mix numbers.
        let registry = PrometheusCollectorRegistry()
        configuration.metrics = .init(
            factory: PrometheusMetricsFactory(registry: registry),
            exposition: { registry.emitToString() }
        )
    }
    let (addresses, addressContinuation) = AsyncStream<SocketAddress>.makeStream()
    let server = ChatServer(configuration: configuration, logger: logger, store: store) { address in
        addressContinuation.yield(address)
        addressContinuation.finish()
    }
    // As `chat serve` runs them: the store's services (a cluster's pool) first, so they outlive the server.
    let group = ServiceGroup(services: store.services + [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { addressContinuation.finish() }
            try await group.run()
        }
        var iterator = addresses.makeAsyncIterator()
        guard let port = await iterator.next()?.port else {
            try await tasks.waitForAll()
            throw TestServerError(description: "the server did not start")
        }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(
                try await withTimeout(timeout) {
                    try await body(TestServer(port: port, shutdown: { await group.triggerGracefulShutdown() }))
                }
            )
        } catch {
            outcome = .failure(error)
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try outcome.get()
    }
}
