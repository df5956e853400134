import ChatProtocol
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
        "zero\u{200b}width", "jo\u{200d}in", "iso\u{2066}late", "para\u{2029}graph", "\u{feff}bom", "del\u{7f}",
        "c1\u{9b}31m",
    ])
    func invalidUserNames(_ name: String) {
        #expect(UserName.normalized(name) == nil)
    }

    @Test func namesAreComposedAndLookAlikeSpacesBecomeOne() {
        // "é" as e + combining acute is the same name as the precomposed "é".
        #expect(UserName.normalized("Ame\u{301}lie") == "Amélie")
        #expect(UserName.normalized("bob\u{a0}\u{3000} smith") == "bob smith")
        #expect(UserName.normalized("bob\tsmith") == "bob smith")
        // 32 characters after composition: 32 decomposed é (64 scalars) are allowed.
        #expect(UserName.normalized(String(repeating: "e\u{301}", count: 32))?.count == 32)
    }

    @Test func namesThatOnlyLookAlikeGetASuffix() throws {
        let taken = try #require(UserName.normalized("Bob Smith"))
        let lookalike = try #require(UserName.normalized("bob\u{a0}smith"))
        #expect(UserName.unique(lookalike, taken: [taken]) == "bob smith-2")
        let composed = try #require(UserName.normalized("Ame\u{301}lie"))
        #expect(UserName.unique(composed, taken: ["amélie"]) == "Amélie-2")
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
