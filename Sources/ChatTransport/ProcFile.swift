#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small text files of Linux's `/proc`, which report no size and are generated as they are read.
public enum ProcFile {
    /// The whole file, or nil when it cannot be opened (no such process, not Linux).
    public static func contents(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var text = ""
        var chunk = [CChar](repeating: 0, count: 4096)
        while let line = fgets(&chunk, Int32(chunk.count), file) {
            text += String(cString: line)
        }
        return text
    }

    /// The value of `name:` in a `/proc/…/status` text (`Cpus_allowed`, `VmRSS`), without the white space
    /// around it.
    public static func statusField(_ name: String, in status: String) -> Substring? {
        let prefix = name + ":"
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return line.dropFirst(prefix.count).drop(while: { $0 == " " || $0 == "\t" })
    }
}
