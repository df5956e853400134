import ChatProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `tail --since-time WHEN`: an instant as people write it, in the forms `journalctl --since` users know —
/// RFC 3339 (`2026-12-01T14:00:00Z`, any offset), a local date and time (`2026-12-01 14:00[:05]`, a
/// date alone for its midnight), `today`/`yesterday` (local midnight), or a span back from now
/// (`90s`, `10m`, `2h`, `1d`, `1w`, combined as `1h30m`).
enum SinceTime {
    /// What the error says a time can be.
    static let forms =
        "use RFC 3339 (2026-12-01T14:00:00Z), a local date and time (2026-12-01 14:00), today, yesterday, or a span back from now (10m, 2h, 1d)"

    /// The instant `text` means at `now`; nil when it is none of the forms.
    /// - Parameter utc: Read local times as UTC (tests, to be independent of the machine's time zone).
    static func parse(_ text: String, now: Timestamp = .now(), utc: Bool = false) -> Timestamp? {
        let text = text.trimmingWhitespace()
        if let span = Self.span(text) {
            return Timestamp(millisecondsSince1970: now.millisecondsSince1970 - span)
        }
        if let instant = Timestamp(rfc3339: text) { return instant }
        var parts = tm()
        switch text.lowercased() {
        case "today", "yesterday":
            var time = time_t(now.millisecondsSince1970 / 1000)
            _ = utc ? gmtime_r(&time, &parts) : localtime_r(&time, &parts)
            (parts.tm_hour, parts.tm_min, parts.tm_sec) = (0, 0, 0)
            if text.lowercased() == "yesterday" { parts.tm_mday -= 1 }
        default:
            guard Self.localDateTime(text, into: &parts) else { return nil }
        }
        // Whether summer time applies is for mktime to find out.
        parts.tm_isdst = -1
        let seconds = utc ? timegm(&parts) : mktime(&parts)
        guard seconds != -1 else { return nil }
        return Timestamp(millisecondsSince1970: Int64(seconds) * 1000)
    }

    /// Milliseconds in `10m`, `2h`, `1h30m`, …; nil when `text` is not a span.
    private static func span(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var total: Int64 = 0
        var number: Int64?
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (value, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, value <= Int64.max / 1_000_000_000 else { return nil }
                number = value + Int64(digit)
            } else if let unit = units[character], let value = number {
                total += value * unit
                guard total <= Int64.max / 1000 else { return nil }
                number = nil
            } else {
                return nil
            }
        }
        guard number == nil, !text.isEmpty else { return nil }
        return total * 1000
    }

    /// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` (`T` for the space too), without an offset.
    private static func localDateTime(_ text: String, into parts: inout tm) -> Bool {
        let bytes = Array(text.utf8)
        guard [10, 16, 19].contains(bytes.count) else { return false }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
                value = value * 10 + Int32(bytes[index] - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...31).contains(day)
        else { return false }
        (parts.tm_year, parts.tm_mon, parts.tm_mday) = (year - 1900, month - 1, day)
        guard bytes.count > 10 else { return true }
        guard [UInt8(ascii: " "), UInt8(ascii: "T"), UInt8(ascii: "t")].contains(bytes[10]),
            bytes[13] == UInt8(ascii: ":"), let hour = number(11..<13), let minute = number(14..<16),
            hour < 24, minute < 60
        else { return false }
        (parts.tm_hour, parts.tm_min) = (hour, minute)
        guard bytes.count > 16 else { return true }
        guard bytes[16] == UInt8(ascii: ":"), let second = number(17..<19), second < 61 else { return false }
        parts.tm_sec = second
        return true
    }
}
