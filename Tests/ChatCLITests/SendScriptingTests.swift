import ChatProtocol
import ChatTestSupport
import Foundation
import Testing

/// `send --json`, `--progress` and `--quiet`, through the built binary.
@Suite(.timeLimit(.minutes(2)))
struct SendScriptingTests {
    /// One `{"id":…,"seq":…}` line.
    struct Receipt: Decodable, Equatable {
        var id: String
        var seq: UInt64
    }

    /// Every redraw of the progress line: `ESC[K` after a carriage return, then the text.
    static var redraw: Regex<(Substring, Substring?, Substring?, Substring?)> {
        #/\r\x1B\[K(sent (\d+), acked (\d+), \d+/s, \d+\.\ds)?/#
    }

    @Test func jsonTellsEveryAcknowledgementInInputOrderAcrossARestartAndQuietSaysNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = directory.appendingPathComponent("chat.db").path
            let total = 5000
            var serve = try await ServeProcess.start(["--store", store, "--rate-limit", "0"])
            let send = try ChatProcess(
                [],
                shell: "seq 1 \(total) | \"$CHAT\" send \(serve.url) --name bot --json --quiet"
            )
            var lines = send.stdout.makeAsyncIterator()
            var printed: [String] = []
            while printed.count < total / 5, let line = await lines.next() { printed.append(line) }
            // Four fifths are not acknowledged yet: the sender has to reconnect, and say nothing about it.
            serve.process.signal(SIGKILL)
            #expect(await serve.process.exitCode() == SIGKILL)
            serve = try await ServeProcess.start(["--store", store, "--rate-limit", "0"], port: serve.port)
            while let line = await lines.next() { printed.append(line) }
            #expect(await send.exitCode() == 0)
            #expect(await ChatProcess.collect(send.stderr).isEmpty)
            let receipts = try printed.map { try JSONDecoder().decode(Receipt.self, from: Data($0.utf8)) }
            #expect(receipts.map(\.seq) == (1...UInt64(total)).map { $0 })
            let prefix = try #require(receipts.first?.id.split(separator: "-").first)
            #expect(receipts.map(\.id) == (1...total).map { "\(prefix)-\($0)" })
            // The seqs are the ones the room gave them.
            let tail = try ChatProcess(["tail", serve.url, "--json", "--since", "\(total - 3)", "--count", "3"])
            #expect(await tail.exitCode() == 0)
            let stored = try await ChatProcess.collect(tail.stdout).map {
                try JSONDecoder().decode(ChatMessage.self, from: Data($0.utf8))
            }
            #expect(stored.map { Receipt(id: $0.id.rawValue, seq: $0.seq) } == Array(receipts.suffix(3)))
            #expect(await serve.stop() == 0)
        }
    }

    @Test func progressIsOneLineRedrawnInPlaceAndErasedAtTheEnd() async throws {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess([], shell: "printf 'a\\nb\\nc\\n' | \"$CHAT\" send \(serve.url) --progress")
        #expect(await send.exitCode() == 0)
        let stderr = await ChatProcess.collect(send.stderr).joined(separator: "\n")
        // No newline: one line, redrawn; the last redraw erases it.
        #expect(!stderr.contains("\n"))
        let redraws = stderr.matches(of: Self.redraw)
        #expect(redraws.map(\.output.0).joined() == stderr, "nothing but redraws: \(stderr.debugDescription)")
        #expect(redraws.count >= 2)
        #expect(redraws.last?.output.1 == nil, "erased at the end")
        // The first acknowledgement is drawn at once; the counts only grow.
        let counts = redraws.compactMap { redraw in
            redraw.output.2.flatMap { Int($0) }.map { ($0, Int(redraw.output.3!)!) }
        }
        #expect(counts.contains { $0.1 >= 1 })
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0.0 <= $1.0 && $0.1 <= $1.1 })
        #expect(counts.allSatisfy { $0.0 <= 3 && $0.1 <= $0.0 })
        #expect(await serve.stop() == 0)
    }

    /// `script(1)` gives the command a terminal: there the line is on without being asked for, and
    /// `--no-progress` or a pipe turn it off.
    @Test func progressIsOnByDefaultOnlyWhenStderrIsATerminal() async throws {
        let serve = try await ServeProcess.start()
        let command = "printf 'a\\n' | \"$CHAT\" send \(serve.url)"
        func onATerminal(_ command: String) -> String {
            "script -qfec '" + command.replacingOccurrences(of: "'", with: #"'\''"#) + "' /dev/null"
        }
        let onTerminal = try ChatProcess([], shell: onATerminal(command))
        #expect(await onTerminal.exitCode() == 0)
        let output = await ChatProcess.collect(onTerminal.stdout).joined(separator: "\n")
        #expect(output.contains("\r\u{1B}[Ksent 1, acked 1, "), "\(output.debugDescription)")
        let optedOut = try ChatProcess([], shell: onATerminal(command + " --no-progress"))
        #expect(await optedOut.exitCode() == 0)
        #expect(await ChatProcess.collect(optedOut.stdout).joined().isEmpty)
        let piped = try ChatProcess([], shell: command)
        #expect(await piped.exitCode() == 0)
        #expect(await ChatProcess.collect(piped.stderr).isEmpty)
        #expect(await serve.stop() == 0)
    }
}
