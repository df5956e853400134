import NIOCore

/// Writes compact JSON objects straight into a `ByteBuffer`.
///
/// Server frames are written by hand rather than through `JSONEncoder` because a broadcast encodes
/// every message once for all recipients, the key order stays readable (`type` first), and it costs
/// a fraction of a generic encoder on the hot path.
struct JSONWriter {
    private(set) var buffer: ByteBuffer
    private var needsComma = false

    init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    mutating func beginObject() {
        self.separate()
        self.buffer.writeInteger(UInt8(ascii: "{"))
        self.needsComma = false
    }

    mutating func endObject() {
        self.buffer.writeInteger(UInt8(ascii: "}"))
        self.needsComma = true
    }

    mutating func beginArray(key: String) {
        self.key(key)
        self.buffer.writeInteger(UInt8(ascii: "["))
        self.needsComma = false
    }

    mutating func endArray() {
        self.buffer.writeInteger(UInt8(ascii: "]"))
        self.needsComma = true
    }

    mutating func key(_ key: String) {
        self.separate()
        self.writeString(key)
        self.buffer.writeInteger(UInt8(ascii: ":"))
        self.needsComma = false
    }

    mutating func field(_ key: String, _ value: String) {
        self.key(key)
        self.writeString(value)
        self.needsComma = true
    }

    mutating func field(_ key: String, _ value: String?) {
        if let value { self.field(key, value) }
    }

    /// An identifier or a room name, as the string it is on the wire.
    mutating func field(_ key: String, _ value: some RawRepresentable<String>) {
        self.field(key, value.rawValue)
    }

    mutating func field(_ key: String, _ value: (some RawRepresentable<String>)?) {
        self.field(key, value?.rawValue)
    }

    /// A timestamp, as RFC 3339: written straight into the buffer (digits and `-:.TZ`, nothing to escape).
    mutating func field(_ key: String, _ value: Timestamp) {
        self.key(key)
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Timestamp.maxRFC3339Length) { raw in
            value.writeRFC3339(into: raw.bindMemory(to: UInt8.self))
        }
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.needsComma = true
    }

    mutating func field(_ key: String, _ value: UInt64) {
        self.key(key)
        self.buffer.writeString(String(value))
        self.needsComma = true
    }

    mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        self.buffer.writeString(String(value))
        self.needsComma = true
    }

    /// A number, exactly as it is (`0.5`, `1000`): rates and seconds.
    mutating func field(_ key: String, _ value: Double) {
        self.key(key)
        if !value.isFinite {
            // JSON has no NaN or infinity; no frame carries one (JSONDecoder reads none).
            self.buffer.writeString("null")
        } else if value == value.rounded(), abs(value) < 0x1p53 {
            // A whole number without ".0" (`"retryAfter":1`), exactly, within Double's integers.
            self.buffer.writeString(String(Int64(value)))
        } else {
            // Swift's shortest form that reads back as this Double ("0.25", "1.1844674407370955e+20").
            // It used to be rounded to milliseconds here, which changed the value (and trapped in
            // Int64(_:) past 2^63): found by FuzzServerFrame. Whoever makes the value rounds it.
            self.buffer.writeString(String(value))
        }
        self.needsComma = true
    }

    mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        self.buffer.writeString(value ? "true" : "false")
        self.needsComma = true
    }

    private mutating func separate() {
        if self.needsComma { self.buffer.writeInteger(UInt8(ascii: ",")) }
    }

    /// Writes a JSON string literal, escaping quotes, backslashes and control characters (RFC 8259 §7).
    private mutating func writeString(_ string: String) {
        self.buffer.writeInteger(UInt8(ascii: "\""))
        // Fast path: most text needs no escaping, so copy it in one go.
        let needsEscaping = string.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        if !needsEscaping {
            self.buffer.writeString(string)
        } else {
            for byte in string.utf8 {
                switch byte {
                case UInt8(ascii: "\""): self.buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): self.buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): self.buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): self.buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): self.buffer.writeStaticString("\\t")
                case 0..<0x20:
                    self.buffer.writeStaticString("\\u00")
                    self.buffer.writeInteger(Self.hexDigits[Int(byte >> 4)])
                    self.buffer.writeInteger(Self.hexDigits[Int(byte & 0x0F)])
                default:
                    self.buffer.writeInteger(byte)
                }
            }
        }
        self.buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
