import ChatClient
import ChatProtocol
import ChatTestSupport
import Foundation
import Testing

/// The delivery promise end to end, with real processes: nothing acknowledged is lost, nothing is
/// printed twice, and one bad reader cannot hurt the others.
@Suite(.runsAlone(within: .seconds(180)), .timeLimit(.minutes(10)))
struct DeliveryTests {
    @Test func tenThousandPipedLinesAllArriveInOrder() async throws {
        // The rate limit is off here: this is about order and completeness, not pacing.
        let serve = try await ServeProcess.start(["--rate-limit", "0"])
        let url = try ChatURL(parsing: serve.url)
        try await ChatClient.withSession(ClientConfiguration(url: url, name: "observer"), logger: quietLogger) {
            observer in
            let tail = try ChatProcess(["tail", serve.url, "--json", "--count", "10000", "--name", "tailer"])
            try await observer.waitForJoin(of: "tailer")
            let send = try ChatProcess([], shell: "seq 1 10000 | \"$CHAT\" send \(serve.url) --name bot")
            #expect(await send.exitCode() == 0)
            #expect(await tail.exitCode() == 0)
            let texts = try await ChatProcess.collect(tail.stdout).map {
                try JSONDecoder().decode(ChatMessage.self, from: Data($0.utf8)).text
            }
            #expect(texts == (1...10000).map(String.init))
        }
        #expect(await serve.stop() == 0)
    }

    @Test func aServerKilledMidStreamAndRestartedOnItsStoreLosesAndDoublesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = directory.appendingPathComponent("chat.db").path
            let total = 5000

            var serve = try await ServeProcess.start(["--store", store])
            let url = serve.url
            let port = serve.port
            let tail = try ChatProcess(["tail", url, "--json", "--count", "\(total)", "--name", "tailer"])
            try await waitForMember("tailer", url: url)
            let send = try ChatProcess([], shell: "seq 1 \(total) | \"$CHAT\" send \(url) --name bot")
            var lines = tail.stdout.makeAsyncIterator()
            var printed: [String] = []
            while printed.count < total / 5, let line = await lines.next() { printed.append(line) }

            // No graceful anything: the process is gone between two writes.
            serve.process.signal(SIGKILL)
            #expect(await serve.process.exitCode() == SIGKILL)
            serve = try await ServeProcess.start(["--store", store], port: port)

            while let line = await lines.next() { printed.append(line) }
            #expect(await send.exitCode() == 0)
            #expect(await tail.exitCode() == 0)
            let messages = try printed.map { try JSONDecoder().decode(ChatMessage.self, from: Data($0.utf8)) }
            // Every line exactly once, in order, and numbered without a hole (said briefly when not).
            let texts = messages.map(\.text)
            let firstWrong = zip(texts, (1...total).map(String.init)).enumerated().first { $1.0 != $1.1 }?.offset
            #expect(
                texts.count == total && firstWrong == nil,
                "\(texts.count) lines; first wrong at \(firstWrong ?? -1)"
            )
            #expect(messages.map(\.seq) == (1...total).map(UInt64.init))
            let tailErrors = await ChatProcess.collect(tail.stderr)
            #expect(tailErrors.allSatisfy { $0.hasPrefix("chat: reconnecting in ") }, "\(tailErrors)")
            let sendErrors = await ChatProcess.collect(send.stderr)
            #expect(sendErrors.allSatisfy { $0.hasPrefix("chat: reconnecting in ") }, "\(sendErrors)")
            #expect(await serve.stop() == 0)
        }
    }

    @Test func aReaderThatNeverReadsIsClosedWhileAFullSpeedTailGetsEverything() async throws {
        let total = 20_000
        let serve = try await ServeProcess.start(["--rate-limit", "0", "--slow-consumer-timeout", "2"])
        let tail = try ChatProcess(["tail", serve.url, "--count", "\(total)", "--name", "tailer"])
        try await withRawWebSocket(port: serve.port, target: "/ws?name=sleeper", receiveBufferSize: 65536) { sleeper in
            try await waitForMember("tailer", url: serve.url)
            let before = try #require(ProcessMemory.of(serve.process.pid))
            // 250-byte messages, streamed as fast as the server acknowledges them.
            let send = try ChatProcess(
                [],
                shell: "seq -f '%0250g' 1 \(total) | \"$CHAT\" send \(serve.url) --name bot"
            )
            #expect(await send.exitCode() == 0)
            var received = 0
            for await line in tail.stdout {
                received += 1
                if received == 1 || received == total { #expect(line.hasSuffix(String(format: "%0250d", received))) }
            }
            #expect(received == total)
            #expect(await tail.exitCode() == 0)
            #expect(await ChatProcess.collect(tail.stderr).isEmpty)
            // The sleeper was closed (with 1008 when the close frame still fit through, else without one).
            let code = try await sleeper.nextCloseCode()
            #expect(code == nil || code == 1008)
            // What the server held for the sleeper was bounded and is not what its memory is made of: the
            // peak stays within a small multiple of the ~6 MB that went through.
            let after = try #require(ProcessMemory.of(serve.process.pid))
            #expect(
                after.peak - before.current < 48 << 20,
                "RSS \(before.current >> 10) KiB → peak \(after.peak >> 10) KiB"
            )
        }
        #expect(await serve.stop() == 0)
    }

}
