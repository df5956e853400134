import NIOCore
import NIOPosix

/// How many event loop threads to run: the cores this process may use.
///
/// NIO counts the machine's cores (or its cgroup quota) but not the process's CPU affinity, so under
/// `taskset -c 0` it would start two loops that take turns on one core — milliseconds of scheduling
/// latency for nothing.
enum UsableCores {
    static var count: Int {
        guard let allowed = Self.affinity, allowed > 0 else { return System.coreCount }
        return min(allowed, System.coreCount)
    }

    /// The CPUs in this process's affinity mask (`Cpus_allowed` in /proc/self/status, hex words).
    private static var affinity: Int? {
        guard let status = ProcFile.contents("/proc/self/status"),
            let mask = ProcFile.statusField("Cpus_allowed", in: status)
        else { return nil }
        return mask.reduce(0) { count, character in count + (character.hexDigitValue?.nonzeroBitCount ?? 0) }
    }
}
