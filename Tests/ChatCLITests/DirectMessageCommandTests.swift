import ChatTestSupport
import Foundation
import Testing

/// `send --to` and what `tail` shows of direct messages, through the built binary.
@Suite(.timeLimit(.minutes(1)))
struct DirectMessageCommandTests {
    static func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func sendToReachesTheAddresseesTailOnlyAndItsReceiptsHaveNoSeq() async throws {
        let serve = try await ServeProcess.start()
        let bob = try ChatProcess(["tail", serve.url, "--name", "bob", "--json", "--count", "2"])
        let carol = try ChatProcess(["tail", serve.url, "--name", "carol", "--json", "--count", "1"])
        try await waitForMember("bob", url: serve.url)
        try await waitForMember("carol", url: serve.url)
        let send = try ChatProcess(
            [],
            shell: "printf 'one\\ntwo\\n' | \"$CHAT\" send \(serve.url) --name alice --to Bob --json --quiet"
        )
        #expect(await send.exitCode() == 0)
        let receipts = try await ChatProcess.collect(send.stdout).map(Self.object)
        #expect(receipts.count == 2)
        #expect(receipts.allSatisfy { $0.keys.sorted() == ["id"] })

        let after = try ChatProcess(["send", serve.url, "--name", "alice", "after"])
        #expect(await after.exitCode() == 0)
        #expect(await bob.exitCode() == 0)
        let seenByBob = try await ChatProcess.collect(bob.stdout).map(Self.object)
        #expect(seenByBob.map { $0["type"] as? String } == ["direct", "direct"])
        #expect(seenByBob.map { $0["text"] as? String } == ["one", "two"])
        #expect(seenByBob.allSatisfy { $0["to"] as? String == "bob" && $0["from"] as? String == "alice" })
        // carol's first line is the room's next message, seq 1: the direct ones took no seq.
        #expect(await carol.exitCode() == 0)
        let seenByCarol = try await ChatProcess.collect(carol.stdout).map(Self.object)
        #expect(seenByCarol.map { $0["text"] as? String } == ["after"])
        #expect(seenByCarol.first?["seq"] as? Int == 1)
        #expect(await serve.stop() == 0)
    }

    @Test func aNameNobodyHasIsExit65WithOneLine() async throws {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess(["send", serve.url, "--to", "nobody", "hello?"])
        #expect(await send.exitCode() == 65)
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("nobody called 'nobody' is in lobby") == true)
        #expect(await serve.stop() == 0)
    }

    @Test func tailShowsDirectMessagesMarkedAndMentionsMatchesThoseAddressedToIt() async throws {
        let serve = try await ServeProcess.start()
        let pager = try ChatProcess(["tail", serve.url, "--name", "pager", "--mentions", "pager", "--count", "2"])
        try await waitForMember("pager", url: serve.url)
        for (to, text) in [(nil, "for the room"), ("pager", "wake up"), (nil, "pager: and you")] {
            let arguments = ["send", serve.url, "--name", "ops"] + (to.map { ["--to", $0] } ?? []) + [text]
            #expect(await (try ChatProcess(arguments)).exitCode() == 0)
        }
        #expect(await pager.exitCode() == 0)
        let lines = await ChatProcess.collect(pager.stdout).map { $0.split(separator: " ", maxSplits: 1)[1] }
        #expect(lines == ["<ops -> pager> wake up", "<ops> pager: and you"])
        #expect(await serve.stop() == 0)
    }
}
