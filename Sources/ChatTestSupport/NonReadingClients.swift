import NIOCore
import NIOPosix

/// Many WebSocket clients that upgrade and then never read a byte, each with a small fixed receive
/// buffer, so the server's writes to them stall within a few KB — the clients a server must survive.
///
/// They send their upgrade request and nothing else; whether the server took them in, and whether it
/// closed them, is the server's to tell (`ServerMetricsSample`).
public final class NonReadingClients: Sendable {
    private let channels: [any Channel]

    private init(channels: [any Channel]) {
        self.channels = channels
    }

    /// Opens `count` of them to `target` on 127.0.0.1:`port`, `concurrency` connection attempts at a time.
    public static func open(
        count: Int,
        port: Int,
        target: String = "/ws",
        receiveBufferSize: Int = 4096,
        concurrency: Int = 50
    ) async throws -> NonReadingClients {
        let request = rawUpgradeRequest(path: target)
        var channels: [any Channel] = []
        var opened = 0
        while opened < count {
            let batch = min(concurrency, count - opened)
            try await withThrowingTaskGroup(of: (any Channel).self) { group in
                for _ in 0..<batch {
                    group.addTask {
                        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
                            // Never read: the kernel's small receive buffer fills and stays full.
                            .channelOption(.autoRead, value: false)
                            .connect(host: "127.0.0.1", port: port)
                            .get()
                        try await channel.writeAndFlush(ByteBuffer(string: request))
                        return channel
                    }
                }
                for try await channel in group { channels.append(channel) }
            }
            opened += batch
        }
        return NonReadingClients(channels: channels)
    }

    /// Closes every one still open.
    public func closeAll() async {
        for channel in self.channels { try? await channel.close() }
    }
}
