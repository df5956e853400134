import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener on 127.0.0.1 that accepts every connection and hangs up at once, as a load balancer
/// without a backend or a crashing proxy does: with a reset (RST), or with a plain close (EOF).
public final class HangUpListener: Sendable {
    /// How it ends each connection.
    public enum HangUp: Sendable {
        /// `SO_LINGER` 0, then close: the client reads "connection reset by peer".
        case reset
        /// A normal close: the client reads end-of-file.
        case close
    }

    /// The port it listens on.
    public let port: Int
    private let channel: any Channel
    private let accepted: Counter

    /// How many connections it has accepted (and hung up on).
    public var acceptedCount: Int { self.accepted.value.load(ordering: .relaxed) }

    private init(port: Int, channel: any Channel, accepted: Counter) {
        self.port = port
        self.channel = channel
        self.accepted = accepted
    }

    /// Starts listening on a free port.
    public static func start(_ hangUp: HangUp) async throws -> HangUpListener {
        let accepted = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.value.add(1, ordering: .relaxed)
                if case .reset = hangUp, let provider = channel as? any SocketOptionProvider {
                    return provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).flatMap { channel.close() }
                }
                return channel.close()
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else { throw NoPort() }
        return HangUpListener(port: port, channel: channel, accepted: accepted)
    }

    /// Stops listening.
    public func stop() async {
        try? await self.channel.close()
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private struct NoPort: Error {}
}
