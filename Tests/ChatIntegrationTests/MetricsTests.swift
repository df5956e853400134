import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Foundation
import MetricsTestKit
import Testing

/// `GET /metrics`: Prometheus text whose counters move when messages flow.
@Suite(.timeLimit(.minutes(1)))
struct MetricsTests {
    /// Samples by series (`name` or `name{labels}`); fails the test on a line that is not Prometheus text.
    private static func scrape(_ port: Int) async throws -> (samples: [String: Double], text: String) {
        let response = try await ServerMetricsSample.rawResponse(port: port)
        #expect(httpStatus(response) == 200)
        #expect(response.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        let sample = try #require(ServerMetricsSample.parse(response), "not Prometheus text: \(response)")
        return (sample.values, String(response[response.range(of: "\r\n\r\n")!.upperBound...]))
    }

    @Test func countersMoveWhenMessagesFlow() async throws {
        try await withChatServer(ServerConfiguration(maxMessageBytes: 16), logger: testLogger) { server in
            let before = try await Self.scrape(server.port)
            #expect(before.text.contains("# TYPE chat_messages_received_total counter"))
            #expect(before.samples["chat_messages_received_total"] == 0)
            try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                try await ChatClient.withSession(server.client("bob"), logger: testLogger) { bob in
                    _ = try await ChatPublisher.publish(
                        Lines(["one", "two"]),
                        configuration: server.client("carol"),
                        logger: testLogger
                    )
                    try await alice.send(.direct(id: "d-1", to: "bob", text: "psst"))
                    try await alice.send(.direct(id: "d-2", to: "nobody", text: "psst"))
                    try await alice.send(.typing)
                    try await alice.send(.message(id: "big", text: String(repeating: "x", count: 17)))
                    var events = alice.events.makeAsyncIterator()
                    _ = try await events.nextMatching(\.error)
                    _ = try await events.nextMatching(\.error)
                    let during = try await Self.scrape(server.port)
                    #expect(during.samples["chat_messages_received_total"] == 2)
                    #expect(during.samples["chat_messages_broadcast_total"] == 2)
                    // Each message reached alice, bob and carol (her own echo).
                    #expect(during.samples["chat_messages_delivered_total"] == 6)
                    // And the direct message's ack; it is counted on its own, never as a room's message.
                    #expect(during.samples["chat_acks_total"] == 3)
                    #expect(during.samples["chat_direct_messages_total"] == 1)
                    #expect(during.samples["chat_typing_relayed_total"] == 1)
                    #expect(during.samples["chat_frames_rejected_total{reason=\"too_large\"}"] == 1)
                    #expect(during.samples["chat_frames_rejected_total{reason=\"no_such_user\"}"] == 1)
                    #expect(during.samples["chat_connections_total"] == 3)
                    #expect(during.samples["chat_rooms"] == 1)
                    #expect(during.samples["chat_history_messages"] == 2)
                    #expect((during.samples["chat_received_bytes_total"] ?? 0) > 0)
                    // alice, bob and this scrape's own connection.
                    #expect((3...4).contains(during.samples["chat_connections"] ?? 0), "carol may still be closing")
                    _ = bob
                }
            }
        }
    }

    /// A library user's own swift-metrics backend gets the counters; with no exposition `/metrics` is 404.
    @Test func theServerRecordsIntoTheBackendItIsGiven() async throws {
        let backend = TestMetrics()
        var configuration = ServerConfiguration()
        configuration.metrics = .init(factory: backend)
        try await withChatServer(configuration, logger: testLogger) { server in
            _ = try await ChatPublisher.publish(
                Lines(["one", "two", "three"]),
                configuration: server.client("carol"),
                logger: testLogger
            )
            #expect(backend.counterTotal(label: "chat_messages_received_total") == 3)
            #expect(backend.counterTotal(label: "chat_acks_total") == 3)
            let response = try await ServerMetricsSample.rawResponse(port: server.port)
            #expect(httpStatus(response) == 404)
        }
    }
}
