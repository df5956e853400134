import ChatTransport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A server process's CPU time and memory, read from Linux's `/proc/PID` (all threads together).
public struct ProcessSample: Sendable {
    /// User plus system CPU time, in seconds.
    public var cpuSeconds: Double
    /// Resident set size, in bytes.
    public var rssBytes: Int

    /// Reads `pid`'s figures; nil when the process does not exist (or this is not Linux).
    public static func read(pid: Int32) -> ProcessSample? {
        guard let stat = ProcFile.contents("/proc/\(pid)/stat"), let status = ProcFile.contents("/proc/\(pid)/status")
        else { return nil }
        // The command name in field 2 may hold spaces: fields are counted after its closing parenthesis.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        // "VmRSS:   84012 kB"
        let kibibytes = ProcFile.statusField("VmRSS", in: status).flatMap { Int($0.prefix(while: \.isNumber)) } ?? 0
        return ProcessSample(cpuSeconds: (user + system) / ticks, rssBytes: kibibytes * 1024)
    }
}
