import ChatCore
import ChatTestSupport
import Testing

/// A client that reads slowly but keeps reading is never dropped: past its backlog bound its room stops
/// reading from publishers until it caught up, and it gets every message in order.
@Suite(.timeLimit(.minutes(1)))
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
                    // its socket fills for a moment, well under the second a stuck client is given.
                    if received % 250 == 0 { try await Task.sleep(for: .milliseconds(200)) }
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
