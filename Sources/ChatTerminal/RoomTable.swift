public import ChatProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The rooms of a server as a table, for `chat rooms` and `join`'s `/rooms`.
public enum RoomTable {
    /// `ROOM  MEMBERS  LAST SEQ  LAST MESSAGE`, names left-aligned, numbers right-aligned.
    public static func lines(_ rooms: [RoomList.Room], now: Timestamp) -> [String] {
        let header = ["ROOM", "MEMBERS", "LAST SEQ", "LAST MESSAGE"]
        let rows = rooms.map { room in
            [
                room.name.rawValue, "\(room.members)", "\(room.lastSeq)",
                room.lastActivity.map { Self.when($0, now: now) } ?? "-",
            ]
        }
        let widths = (0..<header.count).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func pad(_ cells: [String]) -> String {
            let name = cells[0] + String(repeating: " ", count: widths[0] - cells[0].count)
            let numbers = (1...2).map { String(repeating: " ", count: widths[$0] - cells[$0].count) + cells[$0] }
            return ([name] + numbers + [cells[3]]).joined(separator: "  ")
        }
        return [pad(header)] + rows.map(pad)
    }

    /// Local time: `14:03:05` today, `2026-11-30 09:12` before.
    public static func when(_ time: Timestamp, now: Timestamp) -> String {
        func parts(_ timestamp: Timestamp) -> tm {
            var seconds = time_t(timestamp.millisecondsSince1970 / 1000)
            var parts = tm()
            localtime_r(&seconds, &parts)
            return parts
        }
        let (then, today) = (parts(time), parts(now))
        guard then.tm_year != today.tm_year || then.tm_yday != today.tm_yday else { return time.localTimeOfDay }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(then.tm_year + 1900)-\(two(then.tm_mon + 1))-\(two(then.tm_mday)) \(two(then.tm_hour)):\(two(then.tm_min))"
    }
}
