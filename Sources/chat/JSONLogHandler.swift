import ArgumentParser
import ChatProtocol
import Foundation
import Logging
import Synchronization

/// `chat serve --log-format json`: one JSON object per line on stderr — `ts`, `level`, `label`, `message`,
/// then the metadata (`chat.peer`, `chat.room`, …) as strings — for log shippers.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    /// One write per line, so lines from different threads never interleave.
    private static let output = Mutex(FileHandle.standardError)

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = [:]
        for (key, value) in self.metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        object["ts"] = Timestamp.now().rfc3339
        object["level"] = event.level.rawValue
        object["label"] = self.label
        object["message"] = "\(event.message)"
        guard
            var data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return }
        data.append(UInt8(ascii: "\n"))
        Self.output.withLock { $0.write(data) }
    }
}

/// How `serve` writes its logs.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
