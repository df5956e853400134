#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns signals into bytes on a pipe the editor's poll loop reads, so they are handled on the editor
/// thread between two keystrokes rather than inside a signal handler.
///
/// `sigaction` handlers that only `write(2)` are async-signal-safe; blocking the signals and reading a
/// `signalfd` instead does not work in a multi-threaded Swift process (other threads still take them).
enum SignalPipe {
    /// The pipe's write end, for the handler (a C function pointer cannot capture).
    nonisolated(unsafe) private static var writeEnd: Int32 = -1
    nonisolated(unsafe) private static var previous: [Int32: sigaction] = [:]

    /// Installs handlers for `signals` and returns the read end (non-blocking).
    static func install(_ signals: [Int32]) -> Int32 {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return -1 }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        Self.writeEnd = ends[1]
        for signal in signals {
            var action = sigaction()
            #if canImport(Darwin)
            action.__sigaction_u.__sa_handler = SignalPipe.handler
            #else
            action.__sigaction_handler.sa_handler = SignalPipe.handler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            var old = sigaction()
            sigaction(signal, &action, &old)
            Self.previous[signal] = old
        }
        return ends[0]
    }

    /// Puts the previous handlers back and closes the pipe.
    static func uninstall(readEnd: Int32) {
        for (signal, old) in Self.previous {
            var old = old
            sigaction(signal, &old, nil)
        }
        Self.previous = [:]
        close(readEnd)
        close(Self.writeEnd)
        Self.writeEnd = -1
    }

    /// The signals that arrived since the last call, in order.
    static func drain(readEnd: Int32) -> [Int32] {
        var bytes = [UInt8](repeating: 0, count: 64)
        var signals: [Int32] = []
        while true {
            let count = read(readEnd, &bytes, bytes.count)
            guard count > 0 else { break }
            signals += bytes[..<count].map { Int32($0) }
        }
        return signals
    }

    private static let handler: @convention(c) (Int32) -> Void = { signal in
        var byte = UInt8(truncatingIfNeeded: signal)
        let saved = errno
        _ = write(SignalPipe.writeEnd, &byte, 1)
        errno = saved
    }
}
