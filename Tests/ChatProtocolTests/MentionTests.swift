import ChatProtocol
import Testing

struct MentionTests {
    @Test(arguments: [
        "@alice look", "hey @alice", "@Alice", "hi @ALICE.", "(@alice)", "@alice's turn", "alice: ping",
        "  Alice, ping", "@alice:", "thanks @alice!", "@alice\nnext line", "@bob @alice",
    ])
    func aMessageThatNamesAliceMentionsHer(_ text: String) {
        #expect(Mention.names("alice", in: text))
    }

    @Test(arguments: [
        "alice", "hello alice", "mail me@alice.com", "@alicex", "@alice-2 hi", "@alice_b", "@ali", "alice is here",
        "malice: no", "@ alice", "", "@",
    ])
    func aMessageThatDoesNotNameAliceDoesNotMentionHer(_ text: String) {
        #expect(!Mention.names("alice", in: text))
    }

    @Test func namesWithSpacesSuffixesAndOtherScripts() {
        #expect(Mention.names("bob smith", in: "@bob smith can you look"))
        // A space ends a name: `@bob smith` names bob too (names with spaces are the rare case).
        #expect(Mention.names("bob", in: "@bob smith"))
        #expect(Mention.names("alice-2", in: "@alice-2 hi"))
        #expect(!Mention.names("alice", in: "@alice-2 hi"))
        #expect(Mention.names("Zoë", in: "@ZOË bitte"))
        #expect(Mention.names("Ωmega", in: "ωmega: hi"))
        #expect(Mention.names("李", in: "@李 你好"))
        #expect(!Mention.names("李", in: "@李四 你好"))
        #expect(!Mention.names("", in: "@ anything"))
    }
}
