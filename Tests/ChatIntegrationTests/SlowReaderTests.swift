import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

/// A client that reads slowly but keeps reading is never dropped: past its backlog bound its room stops
/// reading from publishers until it caught up, and it gets every message in order.
@Suite(.runsAlone(within: .seconds(60)), .timeLimit(.minutes(10)))
struct SlowReaderTests {
    @Test func aReaderThatPausesNowAndThenGetsEverythingWhileTheRoomWaitsForIt() async throws {
        let total = 4000
        // The grace is generous: this test is about the room waiting, not about the second a stuck client
        // gets (DeliveryQueueTests time that exactly), and a test process under load may not read for a while.
        let configuration = ServerConfiguration(rateLimit: 0, maxClientBacklog: 64 << 10, slowReaderGrace: .seconds(5))
        try await withChatServer(configuration, logger: testLogger, timeout: .seconds(50)) { server in
            try await withRawWebSocket(port: server.port, target: "/ws?name=slow", receiveBufferSize: 4096) { slow in
                guard case .welcome? = try await slow.nextServerFrame() else {
                    Issue.record("no welcome")
                    return
                }
                let chunk = String(repeating: "z", count: 2000)
                async let published = ChatPublisher.publish(
                    Lines((1...total).map { "\($0) \(chunk)" }),
                    configuration: server.client("flood"),
                    logger: testLogger
                )
                var received = 0
                var inOrder = true
                while received < total, let frame = try await slow.nextServerFrame() {
                    guard case .message(let message) = frame else { continue }
                    received += 1
                    if !message.text.hasPrefix("\(received) ") { inOrder = false }
                    // A reader with better things to do now and then — a busy browser tab, a paused pipe:
                    // its socket fills for a moment, well under the grace a stuck client is given. The first
                    // time it waits until its room has stopped for it, so that a publisher slowed by a busy
                    // machine cannot leave the room nothing to wait for.
                    if received == 250 {
                        _ = try await ServerMetricsSample.wait(port: server.port, timeout: .seconds(3)) {
                            $0["chat_publishers_paused_total"] >= 1
                        }
                    } else if received % 250 == 0 {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                #expect(received == total)
                #expect(inOrder)
                _ = try await published
                let metrics = try await ServerMetricsSample.scrape(port: server.port)
                // The room did wait for it (the publisher was paused), and nobody was closed as slow.
                #expect(metrics["chat_publishers_paused_total"] >= 1)
                #expect(metrics["chat_slow_consumers_closed_total"] == 0)
            }
        }
    }
}

/// A client that stops reading is closed, by its backlog bound or by the stall timeout, and the others get
/// every message meanwhile.
@Suite(.runsAlone(within: .seconds(120)), .timeLimit(.minutes(10)))
struct SlowConsumerTests {
    @Test
    func aClientThatNeverReadsIsDroppedAndTheOthersGetEverything() async throws {
        let configuration = ServerConfiguration(maxClientBacklog: 512 << 10)
        try await withChatServer(configuration) { server in
            try await ChatClient.withSession(server.client("reader"), logger: testLogger) { reader in
                try await withRawWebSocket(port: server.port, target: "/ws?name=sleeper", receiveBufferSize: 65536) {
                    sleeper in
                    // The sleeper reads nothing from here on: the socket buffers fill (a few MB with a fixed receive
                    // buffer; loopback autotuning could otherwise absorb 30 MB), then its outbox.
                    let chunk = String(repeating: "x", count: 20_000)
                    let texts = (1...600).map { "\($0) \(chunk)" }
                    _ = try await ChatPublisher.publish(
                        Lines(texts),
                        configuration: server.client("flood"),
                        logger: testLogger
                    )
                    var events = reader.events.makeAsyncIterator()
                    var received = 0
                    var sleeperLeft = false
                    while received < 600 || !sleeperLeft, let frame = try await events.next() {
                        // Under load the flood's own connection may be closed as slow and come back as flood-2.
                        if case .message(let message) = frame, message.from.hasPrefix("flood") {
                            received += 1
                            #expect(message.text.hasPrefix("\(received) "))
                        }
                        if case .leave(let event) = frame, event.user.name == "sleeper" { sleeperLeft = true }
                    }
                    #expect(received == 600, "received \(received)")
                    #expect(sleeperLeft)
                    // Its connection ends: with the 1008 close frame if that still fit through, else without.
                    let code = try await sleeper.nextCloseCode()
                    #expect(code == nil || code == 1008)
                }
            }
        }
    }

    @Test
    func aClientThatStopsReadingIsClosedAfterTheStallTimeoutWhateverItsBacklogBound() async throws {
        // A queue bound far above what is sent: only the stall detection can close the sleeper. The timeout
        // leaves room for readers that are merely slow while the whole suite runs in parallel.
        let configuration = ServerConfiguration(maxClientBacklog: 256 << 20, slowConsumerTimeout: .seconds(3))
        try await withChatServer(configuration) { server in
            try await ChatClient.withSession(server.client("reader"), logger: testLogger) { reader in
                try await withRawWebSocket(port: server.port, target: "/ws?name=sleeper", receiveBufferSize: 65536) {
                    sleeper in
                    let chunk = String(repeating: "y", count: 20_000)
                    _ = try await ChatPublisher.publish(
                        Lines((1...400).map { "\($0) \(chunk)" }),
                        configuration: server.client("flood"),
                        logger: testLogger
                    )
                    var events = reader.events.makeAsyncIterator()
                    var received = 0
                    var sleeperLeft = false
                    while received < 400 || !sleeperLeft, let frame = try await events.next() {
                        if case .message(let message) = frame, message.from.hasPrefix("flood") { received += 1 }
                        if case .leave(let event) = frame, event.user.name == "sleeper" { sleeperLeft = true }
                    }
                    #expect(received == 400)
                    #expect(sleeperLeft)
                    let code = try await sleeper.nextCloseCode()
                    #expect(code == nil || code == 1008)
                }
            }
        }
    }
}
