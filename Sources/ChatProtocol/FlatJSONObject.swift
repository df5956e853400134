/// A JSON object whose values are all strings, non-negative integers, booleans or null — the shape of the
/// frames that come by the thousand (`message`, `ack`) — parsed straight from bytes.
///
/// Foundation's `JSONDecoder` costs tens of microseconds a frame through `Codable`'s generic machinery;
/// this is a few. Anything else (a nested object, an array, a fraction, a negative number, invalid UTF-8
/// or JSON) gives nil, and the caller falls back to `JSONDecoder`, which decides what is valid and says
/// why not. So this only has to be right about what it accepts.
struct FlatJSONObject {
    enum Value: Equatable {
        case string(String)
        case integer(UInt64)
        case bool(Bool)
        case null
    }

    /// The members in order, each key once: an object that repeats a key gives nil, so `JSONDecoder`
    /// alone decides what it means (it keeps the first; the fast path once kept the last, and the two
    /// disagreed — found by FuzzClientFrame).
    private(set) var members: [(key: String, value: Value)] = []

    func value(for key: String) -> Value? {
        self.members.first(where: { $0.key == key })?.value
    }

    func string(_ key: String) -> String? {
        if case .string(let value)? = self.value(for: key) { return value }
        return nil
    }

    func integer(_ key: String) -> UInt64? {
        if case .integer(let value)? = self.value(for: key) { return value }
        return nil
    }

    /// Parses `bytes` as one flat object (white space around it allowed), or nil.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> FlatJSONObject? {
        var parser = Parser(bytes: bytes)
        return parser.object()
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func object() -> FlatJSONObject? {
            var object = FlatJSONObject()
            guard self.take(UInt8(ascii: "{")) else { return nil }
            if !self.take(UInt8(ascii: "}")) {
                repeat {
                    guard let key = self.string(), self.take(UInt8(ascii: ":")), let value = self.value() else {
                        return nil
                    }
                    guard !object.members.contains(where: { $0.key == key }) else { return nil }
                    object.members.append((key, value))
                } while self.take(UInt8(ascii: ","))
                guard self.take(UInt8(ascii: "}")) else { return nil }
            }
            self.skipWhiteSpace()
            return self.index == self.bytes.count ? object : nil
        }

        private mutating func value() -> Value? {
            self.skipWhiteSpace()
            guard self.index < self.bytes.count else { return nil }
            switch self.bytes[self.index] {
            case UInt8(ascii: "\""):
                return self.string().map(Value.string)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return self.integer().map(Value.integer)
            case UInt8(ascii: "t"):
                return self.literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return self.literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return self.literal("null") ? .null : nil
            default:
                return nil
            }
        }

        private mutating func integer() -> UInt64? {
            let start = self.index
            var value: UInt64 = 0
            while self.index < self.bytes.count, case let byte = self.bytes[self.index],
                byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9")
            {
                let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflowTimes, !overflowSum else { return nil }
                value = sum
                self.index += 1
            }
            // JSON has no leading zeros; a fraction or exponent is not an integer: both go to the full decoder.
            if self.index - start > 1 && self.bytes[start] == UInt8(ascii: "0") { return nil }
            if self.index < self.bytes.count,
                [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(self.bytes[self.index])
            {
                return nil
            }
            return value
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard self.index + length <= self.bytes.count else { return false }
            for offset in 0..<length where self.bytes[self.index + offset] != word.utf8Start[offset] { return false }
            self.index += length
            return true
        }

        /// A string; its escapes decoded. Nil for invalid escapes, raw control characters or invalid UTF-8.
        private mutating func string() -> String? {
            guard self.take(UInt8(ascii: "\"")) else { return nil }
            let start = self.index
            // Fast path: no escapes, which is nearly every string.
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(validating: self.bytes[start..<self.index], as: UTF8.self)
                    self.index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { return nil }
                self.index += 1
            }
            var utf8 = Array(self.bytes[start..<self.index])
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.index < self.bytes.count else { return nil }
                    let escape = self.bytes[self.index]
                    self.index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = self.unicodeEscape() else { return nil }
                        utf8.append(contentsOf: String(Character(scalar)).utf8)
                    default:
                        return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    utf8.append(byte)
                }
            }
            return nil
        }

        /// The scalar of `\uXXXX` (the `\u` already read), joining a surrogate pair.
        private mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = self.hex4() else { return nil }
            if (0xD800..<0xDC00).contains(high) {
                guard self.take(UInt8(ascii: "\\"), skippingWhiteSpace: false),
                    self.take(UInt8(ascii: "u"), skippingWhiteSpace: false),
                    let low = self.hex4(), (0xDC00..<0xE000).contains(low)
                else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            }
            return Unicode.Scalar(high)
        }

        private mutating func hex4() -> UInt32? {
            guard self.index + 4 <= self.bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
                self.index += 1
            }
            return value
        }

        private mutating func take(_ byte: UInt8, skippingWhiteSpace: Bool = true) -> Bool {
            if skippingWhiteSpace { self.skipWhiteSpace() }
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        private mutating func skipWhiteSpace() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }
    }
}
