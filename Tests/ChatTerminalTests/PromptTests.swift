import ChatProtocol
import ChatTerminal
import Testing

struct PromptTests {
    @Test func eachStateHasAGlyphAndWords() {
        var prompt = Prompt(room: "lobby", name: "alice", unicode: true, color: false)
        #expect(prompt.rendered == "◌ connecting> ")
        prompt.state = .connected
        #expect(prompt.rendered == "● lobby alice> ")
        prompt.state = .reconnecting(delay: .milliseconds(2300))
        #expect(prompt.rendered == "○ reconnecting in 3s> ")
        prompt.state = .reconnecting(delay: .milliseconds(100))
        #expect(prompt.rendered == "○ reconnecting in 1s> ")
    }

    @Test func withoutUTF8TheGlyphsAreASCII() {
        var prompt = Prompt(state: .connected, room: "ops", name: "bob", unicode: false, color: false)
        #expect(prompt.rendered == "* ops bob> ")
        prompt.state = .connecting
        #expect(prompt.rendered == "~ connecting> ")
        prompt.state = .reconnecting(delay: .seconds(4))
        #expect(prompt.rendered == "- reconnecting in 4s> ")
    }

    @Test func colourCodesAreMarkedInvisibleForLibedit() {
        let prompt = Prompt(state: .connected, room: "lobby", name: "alice", unicode: true, color: true)
        #expect(prompt.rendered == "\u{1}\u{1B}[32m\u{2}●\u{1}\u{1B}[0m\u{2} lobby alice> ")
    }

    @Test func aNameFromTheServerCannotDriveTheTerminal() {
        let prompt = Prompt(state: .connected, room: "lobby", name: "eve\u{1B}[2J", unicode: true, color: false)
        #expect(prompt.rendered == "● lobby eve\\x1b[2J> ")
    }
}
