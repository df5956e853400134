/// The marker every benchmark message carries in its text: `~b`, the publisher (4 hex digits), the send
/// time (16 hex digits of monotonic nanoseconds).
///
/// Every server wraps the text in its own JSON, so receivers find the marker by scanning the frame's
/// bytes instead of decoding it: the marker has no character JSON would escape.
enum BenchMarker {
    static let length = 22
    private static let lead: UInt8 = UInt8(ascii: "~")
    private static let tag: UInt8 = UInt8(ascii: "b")

    /// Writes the marker into `bytes` at `offset` (which must have room for `length` bytes).
    static func write(publisher: Int, sentAt: UInt64, into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes[offset] = Self.lead
        bytes[offset + 1] = Self.tag
        Self.writeHex(UInt64(publisher & 0xFFFF), digits: 4, into: bytes, at: offset + 2)
        Self.writeHex(sentAt, digits: 16, into: bytes, at: offset + 6)
    }

    /// The publisher and send time of the first marker in `bytes`, if there is one.
    static func find(in bytes: UnsafeRawBufferPointer) -> (publisher: Int, sentAt: UInt64)? {
        guard bytes.count >= Self.length, let base = bytes.baseAddress else { return nil }
        var start = 0
        while start <= bytes.count - Self.length {
            guard let hit = memchr(base + start, Int32(Self.lead), bytes.count - Self.length + 1 - start) else {
                return nil
            }
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if bytes[offset + 1] == Self.tag,
                let publisher = Self.readHex(bytes, at: offset + 2, digits: 4),
                let sentAt = Self.readHex(bytes, at: offset + 6, digits: 16)
            {
                return (Int(publisher), sentAt)
            }
            start = offset + 1
        }
        return nil
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeHex(
        _ value: UInt64,
        digits: Int,
        into bytes: UnsafeMutableRawBufferPointer,
        at offset: Int
    ) {
        var rest = value
        for index in stride(from: digits - 1, through: 0, by: -1) {
            bytes[offset + index] = Self.hexDigits[Int(rest & 0xF)]
            rest >>= 4
        }
    }

    private static func readHex(_ bytes: UnsafeRawBufferPointer, at offset: Int, digits: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in offset..<(offset + digits) {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
