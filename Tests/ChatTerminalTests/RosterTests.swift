import ChatProtocol
import ChatTerminal
import Testing

struct RosterTests {
    let ts = Timestamp(rfc3339: "2026-11-25T14:03:05.123Z")!

    @Test func followsJoinsLeavesAndNicks() {
        var roster = Roster()
        let alice = ChatUser(id: "u-1", name: "alice")
        roster.reset(
            Welcome(
                room: "lobby",
                you: alice,
                users: [alice],
                seq: 0,
                epoch: "e",
                limits: ServerConfigurationLimits.any
            )
        )
        roster.apply(.join(PresenceEvent(room: "lobby", user: ChatUser(id: "u-2", name: "bob"), ts: self.ts)))
        roster.apply(.join(PresenceEvent(room: "lobby", user: ChatUser(id: "u-3", name: "Bea"), ts: self.ts)))
        roster.apply(
            .nick(
                PresenceEvent(room: "lobby", user: ChatUser(id: "u-2", name: "bobby"), previousName: "bob", ts: self.ts)
            )
        )
        roster.apply(.leave(PresenceEvent(room: "lobby", user: alice, ts: self.ts)))
        #expect(roster.names == ["bobby", "Bea"])
        #expect(roster.completions(for: "b", startsLine: false) == ["Bea", "bobby"])
        #expect(roster.completions(for: "/n", startsLine: true) == ["/nick"])
        #expect(roster.completions(for: "/n", startsLine: false).isEmpty)
    }
}

enum ServerConfigurationLimits {
    static let any = ServerLimits(
        maxMessageBytes: 65536,
        maxFrameBytes: 1 << 20,
        historySize: 1000,
        rateLimit: 1000,
        burst: 2000
    )
}
