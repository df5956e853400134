import ArgumentParser

/// A size on the command line: bytes, or with a binary suffix (`512K`, `1M`, `1MiB`, `2G`).
struct ByteCount: ExpressibleByArgument, Equatable, CustomStringConvertible {
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let units: [(suffix: String, factor: Int)] = [
            ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30),
        ]
        let lowered = argument.lowercased()
        let unit = units.first { lowered.hasSuffix($0.suffix) }
        let digits = lowered.dropLast(unit?.suffix.count ?? 0)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit?.factor ?? 1)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    /// `1MiB`, `256MiB`, `1500`: the largest unit that divides it.
    var description: String {
        for (suffix, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where self.bytes >= factor && self.bytes % factor == 0 {
            return "\(self.bytes / factor)\(suffix)"
        }
        return "\(self.bytes)"
    }

    var defaultValueDescription: String { self.description }
}
