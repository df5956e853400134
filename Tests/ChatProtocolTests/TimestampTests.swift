import ChatProtocol
import NIOCore
import Testing

struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_764_079_385_123, "2025-11-25T14:03:05.123Z"),
        (951_782_400_007, "2000-02-29T00:00:00.007Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ])
    func formatsAsRFC3339WithMilliseconds(_ millis: Int64, _ text: String) {
        let timestamp = Timestamp(millisecondsSince1970: millis)
        #expect(timestamp.rfc3339 == text)
        // A frame writes the same text straight into its buffer.
        let message = ChatMessage(room: "r", seq: 1, id: "i", from: "f", uid: "u", text: "t", ts: timestamp)
        #expect(String(buffer: ServerFrame.message(message).encode()).hasSuffix(#","ts":"\#(text)"}"#))
        #expect(Timestamp(rfc3339: text) == Timestamp(millisecondsSince1970: millis))
    }

    @Test func parsesOtherFractionLengths() {
        #expect(Timestamp(rfc3339: "2025-11-25T14:03:05Z")?.millisecondsSince1970 == 1_764_079_385_000)
        #expect(Timestamp(rfc3339: "2025-11-25T14:03:05.1Z")?.millisecondsSince1970 == 1_764_079_385_100)
        #expect(Timestamp(rfc3339: "2025-11-25T14:03:05.123456Z")?.millisecondsSince1970 == 1_764_079_385_123)
    }

    @Test(arguments: [
        "2025-11-25T15:03:05.123+01:00", "2025-11-25T09:33:05.123-04:30", "2025-11-25t14:03:05.123z",
        "2025-11-25 14:03:05.123Z", "2025-11-25T14:03:05.123+00:00",
    ])
    func parsesOffsetsAndTheOtherSpellingsRFC3339Allows(_ text: String) {
        #expect(Timestamp(rfc3339: text)?.millisecondsSince1970 == 1_764_079_385_123)
    }

    @Test(arguments: [
        "", "2025-11-25", "2025-11-25T14:03:05", "2025-13-25T14:03:05Z", "2025-11-25T14:03:05.Z",
        "x025-11-25T14:03:05Z", "2025-11-25T14:03:05+01", "2025-11-25T14:03:05+0100", "2025-11-25T14:03:05Zx",
        "2025-11-25T14:03:05+24:00", "2025-11-25X14:03:05Z", "2025-11-25T14:03:05.",
    ])
    func rejectsAnythingElse(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func nowIsAfter2025() {
        #expect(Timestamp.now() > Timestamp(rfc3339: "2025-01-01T00:00:00.000Z")!)
    }
}
