public import NIOPosix

/// The process's event loops — one per usable core — used by the server and the clients by default.
/// Like NIO's singleton it lives as long as the process.
public enum ChatEventLoops {
    public static let shared = MultiThreadedEventLoopGroup(numberOfThreads: UsableCores.count)
}
