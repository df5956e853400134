import ChatProtocol
import Glibc
import Testing

@testable import chat

/// `tail --since-time`: the forms of a time, local times read as UTC so the machine's zone does not matter.
struct SinceTimeTests {
    /// 2026-12-01T14:30:15.250Z.
    let now = Timestamp(rfc3339: "2026-12-01T14:30:15.250Z")!

    func parse(_ text: String) -> Timestamp? {
        SinceTime.parse(text, now: self.now, utc: true)
    }

    @Test(arguments: [
        ("10m", Int64(600_000)), ("2h", 7_200_000), ("1d", 86_400_000), ("1w", 604_800_000), ("90s", 90_000),
        ("1h30m", 5_400_000), ("0s", 0), (" 5m ", 300_000),
    ])
    func aSpanCountsBackFromNow(_ text: String, _ milliseconds: Int64) {
        #expect(self.parse(text)?.millisecondsSince1970 == self.now.millisecondsSince1970 - milliseconds)
    }

    @Test(arguments: [
        ("2026-12-01T13:00:00Z", "2026-12-01T13:00:00.000Z"),
        ("2026-12-01T14:00:00+01:00", "2026-12-01T13:00:00.000Z"),
        ("2026-12-01 13:00:00.5Z", "2026-12-01T13:00:00.500Z"),
        ("2026-12-01 13:00", "2026-12-01T13:00:00.000Z"),
        ("2026-12-01T13:00:07", "2026-12-01T13:00:07.000Z"),
        ("2026-12-01", "2026-12-01T00:00:00.000Z"),
        ("today", "2026-12-01T00:00:00.000Z"),
        ("Yesterday", "2026-11-30T00:00:00.000Z"),
    ])
    func anInstantIsTakenAsWritten(_ text: String, _ expected: String) {
        #expect(self.parse(text)?.rfc3339 == expected)
    }

    @Test(arguments: [
        "", "m", "10", "10x", "-10m", "1.5h", "10m5", "2026-13-01", "2026-12-01 25:00", "2026-12-01T13:00:00+1",
        "tomorrow", "99999999999999999999s",
    ])
    func anythingElseIsNotATime(_ text: String) {
        #expect(self.parse(text) == nil)
    }

    @Test func theMachinesZoneReadsALocalTime() throws {
        // Whatever the zone, a local time and the same instant written with its offset agree.
        let local = try #require(SinceTime.parse("2026-07-01 12:00", now: self.now))
        var seconds = time_t(local.millisecondsSince1970 / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        #expect((parts.tm_year, parts.tm_mon, parts.tm_mday, parts.tm_hour, parts.tm_min) == (126, 6, 1, 12, 0))
    }
}
