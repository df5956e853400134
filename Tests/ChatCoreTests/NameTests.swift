import ChatCore
import Testing

struct NameTests {
    @Test(arguments: ["lobby", "ops", "a", "A.b_c-9", String(repeating: "r", count: 64)])
    func validRoomNames(_ name: String) {
        #expect(RoomName.isValid(name))
    }

    @Test(arguments: ["", "a b", "ops/x", "é", "a?b", String(repeating: "r", count: 65)])
    func invalidRoomNames(_ name: String) {
        #expect(!RoomName.isValid(name))
    }

    @Test func userNamesAreTrimmed() {
        #expect(UserName.normalized("  alice \t") == "alice")
        #expect(UserName.normalized("héllo ✓ 日本") == "héllo ✓ 日本")
    }

    @Test(arguments: [
        "", "   ", "a\u{1}b", "a\u{1b}[31mred", "evil\u{202e}txt", "line\nbreak", String(repeating: "n", count: 33),
    ])
    func invalidUserNames(_ name: String) {
        #expect(UserName.normalized(name) == nil)
    }

    @Test func aTakenNameGetsTheFirstFreeSuffix() {
        #expect(UserName.unique("alice", taken: []) == "alice")
        #expect(UserName.unique("alice", taken: ["bob"]) == "alice")
        #expect(UserName.unique("alice", taken: ["alice"]) == "alice-2")
        #expect(UserName.unique("Alice", taken: ["alice", "ALICE-2"]) == "Alice-3")
    }

    @Test func aSuffixNeverMakesANameTooLong() {
        let long = String(repeating: "n", count: 32)
        let unique = UserName.unique(long, taken: [long])
        #expect(unique.count == 32)
        #expect(unique.hasSuffix("-2"))
    }
}
