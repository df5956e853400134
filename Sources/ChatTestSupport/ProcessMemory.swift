import ChatTransport

/// A process's resident memory now and at its peak, in bytes (Linux `/proc/PID/status`: VmRSS, VmHWM).
public struct ProcessMemory: Sendable {
    public let current: Int
    public let peak: Int

    /// Reads it for `pid`; nil when the process is gone or this is not Linux.
    public static func of(_ pid: Int32) -> ProcessMemory? {
        guard let status = ProcFile.contents("/proc/\(pid)/status") else { return nil }
        func bytes(_ field: String) -> Int? {
            ProcFile.statusField(field, in: status).flatMap { Int($0.prefix(while: \.isNumber)) }.map { $0 * 1024 }
        }
        guard let current = bytes("VmRSS"), let peak = bytes("VmHWM") else { return nil }
        return ProcessMemory(current: current, peak: peak)
    }
}
