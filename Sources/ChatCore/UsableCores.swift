import NIOCore
public import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many event loop threads to run: the cores this process may use.
///
/// NIO counts the machine's cores (or its cgroup quota) but not the process's CPU affinity, so under
/// `taskset -c 0` it would start two loops that take turns on one core — milliseconds of scheduling
/// latency for nothing.
public enum UsableCores {
    public static var count: Int {
        guard let allowed = Self.affinity, allowed > 0 else { return System.coreCount }
        return min(allowed, System.coreCount)
    }

    /// The CPUs in this process's affinity mask (`Cpus_allowed` in /proc/self/status, hex words).
    private static var affinity: Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            return text.dropFirst("Cpus_allowed:".count).reduce(0) { count, character in
                count + (character.hexDigitValue?.nonzeroBitCount ?? 0)
            }
        }
        return nil
    }
}

/// The process's event loops — one per usable core — used by the server and the clients by default.
/// Like NIO's singleton it lives as long as the process.
public enum ChatEventLoops {
    public static let shared = MultiThreadedEventLoopGroup(numberOfThreads: UsableCores.count)
}
