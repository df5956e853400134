import ChatTestSupport
import Foundation
import Testing

/// The server's memory stays bounded however many clients stop reading, and a client that keeps reading
/// loses nothing: real processes, real sockets, the server's own `/proc` figures.
@Suite(.runsAlone(within: .seconds(180)), .timeLimit(.minutes(10)))
struct BacklogTests {

    @Test func oneNeverReadingClientBesideEightSendersIsClosedAndTheServerHoldsLittleForIt() async throws {
        let (senders, perSender, warmUp) = (8, 6250, 1000)
        let total = senders * perSender
        let serve = try await ServeProcess.start()
        let tail = try ChatProcess(["tail", serve.url, "--count", "\(warmUp + total)", "--name", "tailer"])
        try await waitForMember("tailer", url: serve.url)
        // The room's history (1,000 messages) is full before the baseline: what is measured is what the
        // flood and the sleeper cost, not the history every server keeps anyway.
        let warm = try ChatProcess([], shell: "seq -f '%01000g' 1 \(warmUp) | \"$CHAT\" send \(serve.url) --name warm")
        #expect(await warm.exitCode() == 0)
        let sleeper = try await NonReadingClients.open(count: 1, port: serve.port)
        _ = try await ServerMetricsSample.wait(port: serve.port, timeout: .seconds(10)) {
            $0["chat_connections_total"] >= 4
        }
        let before = try #require(ProcessMemory.of(serve.process.pid))

        // 8 × 6,250 lines of 1,000 bytes at the default rate limit (each sender paces itself under it).
        var sends: [ChatProcess] = []
        for index in 0..<senders {
            let first = index * perSender + 1
            sends.append(
                try ChatProcess(
                    [],
                    shell:
                        "seq -f '%01000g' \(first) \(first + perSender - 1) | \"$CHAT\" send \(serve.url) --name bot\(index)"
                )
            )
        }
        var lastBySender: [Substring: Int] = [:]
        var received = 0
        var outOfOrder = 0
        for await line in tail.stdout {
            // HH:MM:SS <botN> 000…0123
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, parts[1] != "<warm>", let number = Int(parts[2]) else { continue }
            received += 1
            if number <= lastBySender[parts[1], default: 0] { outOfOrder += 1 }
            lastBySender[parts[1]] = number
        }
        for send in sends { #expect(await send.exitCode() == 0) }
        #expect(received == total)
        #expect(outOfOrder == 0)
        #expect(await tail.exitCode() == 0)
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)

        let closed = try await ServerMetricsSample.wait(port: serve.port, timeout: .seconds(10)) {
            $0["chat_slow_consumers_closed_total"] >= 1
        }
        #expect(closed["chat_slow_consumers_closed_total"] == 1)
        #expect(closed["chat_backlog_bytes"] == 0)
        let after = try #require(ProcessMemory.of(serve.process.pid))
        // 50 MB went through; the server's peak grew by much less than the 16 MiB it used to keep per
        // sleeper — what it held for the sleeper is bounded by --max-client-backlog (1 MiB).
        #expect(
            after.peak - before.current < 16 << 20,
            "RSS \(before.current >> 10) KiB → peak \(after.peak >> 10) KiB"
        )
        await sleeper.closeAll()
        #expect(await serve.stop() == 0)
    }

    @Test func fiveHundredNeverReadingClientsAreClosedAndAReadingTailGetsEverything() async throws {
        let (stuck, total) = (500, 20_000)
        let serve = try await ServeProcess.start(["--rate-limit", "0", "--max-connections-per-ip", "0"])
        let tail = try ChatProcess(["tail", serve.url, "--count", "\(total)", "--name", "tailer"])
        try await waitForMember("tailer", url: serve.url)
        let sleepers = try await NonReadingClients.open(count: stuck, port: serve.port)
        _ = try await ServerMetricsSample.wait(port: serve.port, timeout: .seconds(90)) {
            $0["chat_connections_total"] >= Double(stuck + 2)
        }
        let before = try #require(ProcessMemory.of(serve.process.pid))

        let started = ContinuousClock.now
        let send = try ChatProcess([], shell: "seq -f '%01000g' 1 \(total) | \"$CHAT\" send \(serve.url) --name bot")
        // Every sleeper is let go: as a slow consumer once the flood has filled its buffers and the grace
        // passed — or, on a machine so busy that the flood reaches it late, by the keep-alive, 35 s after
        // it stopped answering pings (a sleeper answers none). Either way the server holds nothing for it
        // any more, which is what this asserts; how soon is the machine's, so the bound only catches a
        // server that never lets go.
        let closed = try await ServerMetricsSample.wait(port: serve.port, timeout: .seconds(150)) {
            $0["chat_connections"] <= 3
        }
        let closing = ContinuousClock.now - started
        // Nobody else was closed as slow: the tail, which reads, gets everything (below).
        #expect(closed["chat_slow_consumers_closed_total"] <= Double(stuck))

        var received = 0
        var inOrder = true
        for await line in tail.stdout {
            received += 1
            if !line.hasSuffix(String(format: "%01000d", received)) { inOrder = false }
        }
        #expect(await send.exitCode() == 0)
        #expect(received == total)
        #expect(inOrder)
        #expect(await tail.exitCode() == 0)
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)
        let after = try #require(ProcessMemory.of(serve.process.pid))
        #expect(
            after.peak - before.current < 128 << 20,
            "RSS \(before.current >> 10) KiB → peak \(after.peak >> 10) KiB; sleepers closed in \(closing)"
        )
        await sleepers.closeAll()
        #expect(await serve.stop() == 0)
    }
}
