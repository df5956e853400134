#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A wall-clock instant with millisecond precision, written as RFC 3339 UTC (`2026-11-25T14:03:05.123Z`).
public struct Timestamp: Sendable, Hashable, Comparable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSince1970: Int64

    /// Creates a timestamp.
    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSince1970: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }

    /// The RFC 3339 form in UTC with exactly three fractional digits.
    public var rfc3339: String {
        String(unsafeUninitializedCapacity: Self.maxRFC3339Length) { self.writeRFC3339(into: $0) }
    }

    /// The longest `writeRFC3339` writes: a year of up to 19 digits and its sign, then 20 more bytes.
    package static let maxRFC3339Length = 40

    /// Writes the RFC 3339 form as UTF-8 into `bytes` (`maxRFC3339Length` long) and returns how many bytes
    /// it wrote. Digits straight into bytes, no intermediate strings: every message's time is formatted for
    /// its frame and again for a store, and building it from padded strings cost 0.6 µs a time.
    package func writeRFC3339(into bytes: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let (seconds, millis) = self.millisecondsSince1970.floorDivided(by: 1000)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var count = 0
        func put(_ byte: UInt8) {
            bytes[count] = byte
            count += 1
        }
        func put(_ value: Int, width: Int) {
            var digits = 1
            var rest = value.magnitude / 10
            while rest > 0 {
                digits += 1
                rest /= 10
            }
            if value < 0 { put(UInt8(ascii: "-")) }
            for _ in digits..<max(width, digits) { put(UInt8(ascii: "0")) }
            var magnitude = value.magnitude
            for index in stride(from: count + digits - 1, through: count, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            count += digits
        }
        put(Int(parts.tm_year) + 1900, width: 4)
        put(UInt8(ascii: "-"))
        put(Int(parts.tm_mon) + 1, width: 2)
        put(UInt8(ascii: "-"))
        put(Int(parts.tm_mday), width: 2)
        put(UInt8(ascii: "T"))
        put(Int(parts.tm_hour), width: 2)
        put(UInt8(ascii: ":"))
        put(Int(parts.tm_min), width: 2)
        put(UInt8(ascii: ":"))
        put(Int(parts.tm_sec), width: 2)
        put(UInt8(ascii: "."))
        put(Int(millis), width: 3)
        put(UInt8(ascii: "Z"))
        return count
    }

    /// `HH:MM:SS` in the machine's local time zone, for human-readable output.
    public var localTimeOfDay: String {
        var time = time_t(self.millisecondsSince1970.floorDivided(by: 1000).quotient)
        var parts = tm()
        localtime_r(&time, &parts)
        return Self.pad(Int(parts.tm_hour), 2) + ":" + Self.pad(Int(parts.tm_min), 2) + ":"
            + Self.pad(Int(parts.tm_sec), 2)
    }

    /// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`, as this protocol writes it
    /// (UTC, `Z`) or as people and other programs do (an offset; `t`, `z` or a space as RFC 3339 allows);
    /// fractions finer than a millisecond are cut. nil for anything else.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var millis = 0
        if bytes[index] == UInt8(ascii: ".") {
            // One or more digits; only the first three count.
            index += 1
            let digits = bytes[index...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
            guard digits > 0, let fraction = number(index..<(index + min(digits, 3))) else { return nil }
            millis = fraction * Self.powerOfTen(3 - min(digits, 3))
            index += digits
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6)),
                hours < 24, minutes < 60
            else { return nil }
            offsetMinutes = (hours * 60 + minutes) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offsetMinutes) * 60
        self.millisecondsSince1970 = seconds * 1000 + Int64(millis)
    }

    private static func powerOfTen(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension Timestamp: Codable {
    /// Reads the RFC 3339 string the protocol writes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let timestamp = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 UTC time: \(text)")
        }
        self = timestamp
    }

    /// Writes the RFC 3339 string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rfc3339)
    }
}

extension Int64 {
    /// Division rounding towards negative infinity, so instants before 1970 format correctly.
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
