import ChatTestSupport
import Foundation
import Testing

/// `tail --until` and `--timeout`, through the built binary: what a script waits for, and how long.
@Suite(.timeLimit(.minutes(1)))
struct TailScriptingTests {
    /// Three messages in the room's history, sent by `bot`.
    private static func serveWithHistory() async throws -> ServeProcess {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess([], shell: "printf 'a\\nb\\nc\\n' | \"$CHAT\" send \(serve.url) --name bot")
        #expect(await send.exitCode() == 0)
        return serve
    }

    @Test func untilPrintsThroughTheFirstMatchingMessageAndExits0() async throws {
        let serve = try await Self.serveWithHistory()
        let tail = try ChatProcess(["tail", serve.url, "-n", "3", "--until", "^b$"])
        #expect(await tail.exitCode() == 0)
        let lines = await ChatProcess.collect(tail.stdout)
        #expect(lines.map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) } == ["<bot> a", "<bot> b"])
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)
        #expect(await serve.stop() == 0)
    }

    /// With `--json` the pattern is matched against the message's text, not the JSON line.
    @Test func untilWithJSONMatchesTheTextOnly() async throws {
        let serve = try await Self.serveWithHistory()
        // `"type"` is in every JSON line, never in a text: only the text is searched.
        let tail = try ChatProcess(["tail", serve.url, "-n", "3", "--json", "--until", "type|^c$"])
        #expect(await tail.exitCode() == 0)
        let texts = try await ChatProcess.collect(tail.stdout).map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["text"] as? String
        }
        #expect(texts == ["a", "b", "c"])
        #expect(await serve.stop() == 0)
    }

    @Test func mentionsPrintsOnlyTheMessagesThatNameSomeoneAskedFor() async throws {
        let serve = try await ServeProcess.start()
        let lines = ["plain", "@alice look", "mail me@alice.com", "bob: ping", "ALICE, hi", "@alice-2 not her"]
        let text = lines.joined(separator: "\\n")
        let send = try ChatProcess([], shell: "printf '\(text)\\n' | \"$CHAT\" send \(serve.url) --name carol")
        #expect(await send.exitCode() == 0)
        let tail = try ChatProcess([
            "tail", serve.url, "-n", "6", "--json", "--mentions", "alice", "--mentions", "bob", "--count", "3",
            "--timeout", "30",
        ])
        #expect(await tail.exitCode() == 0)
        let texts = try await ChatProcess.collect(tail.stdout).map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["text"] as? String
        }
        #expect(texts == ["@alice look", "bob: ping", "ALICE, hi"])
        #expect(await serve.stop() == 0)
    }

    /// Several rooms at once: each line says its room, each room resumes on its own seq after a restart.
    @Test func severalRoomsArePrefixedAndResumeEachOnItsOwnSeq() async throws {
        try await withTemporaryDirectory { directory in
            let store = directory.appendingPathComponent("chat.db").path
            var serve = try await ServeProcess.start(["--store", store])
            // ops gets ahead of dev in seqs, so a resume on the wrong room's seq would skip or repeat.
            for (room, lines) in [("ops", "o1\\no2\\no3"), ("dev", "d1")] {
                let send = try ChatProcess(
                    [],
                    shell: "printf '\(lines)\\n' | \"$CHAT\" send \(serve.url) --room \(room) --name bot"
                )
                #expect(await send.exitCode() == 0)
            }
            let tail = try ChatProcess([
                "tail", serve.url, "--room", "ops", "--room", "dev", "-n", "1", "--count", "4", "--name", "tailer",
                "--timeout", "60",
            ])
            var lines = tail.stdout.makeAsyncIterator()
            var printed: [String] = []
            while printed.count < 2, let line = await lines.next() { printed.append(line) }
            serve.process.signal(SIGKILL)
            #expect(await serve.process.exitCode() == SIGKILL)
            serve = try await ServeProcess.start(["--store", store], port: serve.port)
            for (room, text) in [("dev", "d2"), ("ops", "o4")] {
                let send = try ChatProcess(["send", serve.url, "--room", room, "--name", "bot", text])
                #expect(await send.exitCode() == 0)
            }
            while let line = await lines.next() { printed.append(line) }
            #expect(await tail.exitCode() == 0)
            let shown = printed.map { line in
                let parts = line.split(separator: " ")
                return "\(parts[0]) \(parts.last!)"
            }
            #expect(Set(shown) == ["[ops] o3", "[dev] d1", "[dev] d2", "[ops] o4"])
            #expect(shown.firstIndex(of: "[ops] o3")! < shown.firstIndex(of: "[ops] o4")!)
            #expect(await serve.stop() == 0)
        }
    }

    @Test func timeoutBeforeTheMatchExits124WithOneLine() async throws {
        let serve = try await Self.serveWithHistory()
        let tail = try ChatProcess(["tail", serve.url, "-n", "3", "--until", "never", "--timeout", "0.5"])
        #expect(await tail.exitCode() == 124)
        // What came before the time ran out was printed.
        #expect(await ChatProcess.collect(tail.stdout).count == 3)
        #expect(
            await ChatProcess.collect(tail.stderr) == ["chat: error: --timeout passed (0.5s) before tail was done"]
        )
        #expect(await serve.stop() == 0)
    }

    @Test func aTimeoutThatIsNotReachedChangesNothing() async throws {
        let serve = try await Self.serveWithHistory()
        let tail = try ChatProcess(["tail", serve.url, "-n", "3", "--count", "3", "--timeout", "60"])
        #expect(await tail.exitCode() == 0)
        #expect(await ChatProcess.collect(tail.stdout).count == 3)
        #expect(await serve.stop() == 0)
    }
}
