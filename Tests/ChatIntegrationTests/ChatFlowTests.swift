import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

/// Clients talking through a real server on 127.0.0.1.
@Suite(.timeLimit(.minutes(1)))
struct ChatFlowTests {
    @Test func twoClientsSeeEachOthersMessagesInOrder() async throws {
        try await withChatServer(logger: testLogger) { server in
            let logger = testLogger
            try await ChatClient.withSession(server.client("alice"), logger: logger) { alice in
                try await ChatClient.withSession(server.client("bob"), logger: logger) { bob in
                    #expect(bob.welcome.users.map(\.name) == ["alice", "bob"])
                    var aliceEvents = alice.events.makeAsyncIterator()
                    #expect(try await aliceEvents.nextMatching(\.join)?.user.name == "bob")

                    for index in 1...3 { try await alice.send(.message(id: "a-\(index)", text: "from alice \(index)")) }
                    var bobEvents = bob.events.makeAsyncIterator()
                    var seen: [String] = []
                    while seen.count < 3, let message = try await bobEvents.nextMatching(\.message) {
                        seen.append("\(message.from): \(message.text)")
                    }
                    // Only after bob saw alice's messages is his reply ordered after them.
                    try await bob.send(.message(id: nil, text: "from bob"))
                    if let reply = try await bobEvents.nextMatching(\.message) {
                        seen.append("\(reply.from): \(reply.text)")
                    }
                    #expect(
                        seen == ["alice: from alice 1", "alice: from alice 2", "alice: from alice 3", "bob: from bob"]
                    )

                    var aliceSeen: [UInt64] = []
                    while aliceSeen.count < 4, let message = try await aliceEvents.nextMatching(\.message) {
                        aliceSeen.append(message.seq)
                    }
                    #expect(aliceSeen == [1, 2, 3, 4])
                }
                var aliceEvents = alice.events.makeAsyncIterator()
                let left = try await aliceEvents.nextMatching(\.leave)
                #expect(left?.user.name == "bob")
            }
        }
    }

    @Test func aMessageWithAnIdIsAcknowledgedWithItsSeqBeforeItIsEchoed() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                try await alice.send(.message(id: "m-1", text: "one"))
                try await alice.send(.message(id: "m-2", text: "two"))
                var events = alice.events.makeAsyncIterator()
                var frames: [ServerFrame] = []
                while frames.count < 4, let frame = try await events.next() { frames.append(frame) }
                try #require(frames.count == 4, "the connection ended after \(frames)")
                guard case .ack(let firstAck) = frames[0], case .message(let first) = frames[1],
                    case .ack(let secondAck) = frames[2], case .message(let second) = frames[3]
                else {
                    Issue.record("unexpected frames \(frames)")
                    return
                }
                #expect(firstAck == Ack(id: "m-1", seq: first.seq))
                #expect(secondAck == Ack(id: "m-2", seq: second.seq))
                #expect(first.id == "m-1")
                #expect(second.seq == first.seq + 1)
            }
        }
    }

    @Test func publishReturnsOnceEveryMessageIsAcknowledged() async throws {
        try await withChatServer(logger: testLogger) { server in
            let texts = (1...500).map { "line \($0)" }
            let result = try await ChatPublisher.publish(
                Lines(texts),
                configuration: server.client("bot"),
                options: ChatPublisher.Options(window: 16),
                logger: testLogger
            )
            #expect(result.delivered == 500)
            #expect(result.lastSeq == 500)
            try await ChatClient.withSession(server.client("reader", history: 1000), logger: testLogger) { reader in
                var events = reader.events.makeAsyncIterator()
                var replayed: [String] = []
                while replayed.count < 500, let message = try await events.nextMatching(\.message) {
                    replayed.append(message.text)
                }
                #expect(replayed == texts)
            }
        }
    }

    @Test func historyReplaysTheLastMessagesAndSinceResumes() async throws {
        try await withChatServer(ServerConfiguration(historySize: 5), logger: testLogger) { server in
            _ = try await ChatPublisher.publish(
                Lines((1...8).map { "m\($0)" }),
                configuration: server.client("bot"),
                logger: testLogger
            )
            try await ChatClient.withSession(server.client("a", history: 3), logger: testLogger) { session in
                #expect(session.welcome.seq == 8)
                #expect(session.welcome.recovered == nil)
                let replayed = try await session.messages(3)
                #expect(replayed.map(\.text) == ["m6", "m7", "m8"])
            }
            try await ChatClient.withSession(server.client("b", since: 5), logger: testLogger) { session in
                #expect(session.welcome.recovered == true)
                let resumed = try await session.messages(3)
                #expect(resumed.map(\.seq) == [6, 7, 8])
            }
            try await ChatClient.withSession(server.client("c", since: 1), logger: testLogger) { session in
                #expect(session.welcome.recovered == false)
                #expect(session.welcome.firstSeq == 4)
            }
        }
    }

    @Test func roomsAreIsolated() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await ChatClient.withSession(server.client("ops-reader", room: "ops"), logger: testLogger) { ops in
                _ = try await ChatPublisher.publish(
                    Lines(["for the lobby"]),
                    configuration: server.client("bot"),
                    logger: testLogger
                )
                _ = try await ChatPublisher.publish(
                    Lines(["for ops"]),
                    configuration: server.client("bot", room: "ops"),
                    logger: testLogger
                )
                let message = try await ops.messages(1).first
                #expect(message?.text == "for ops")
                #expect(message?.room == "ops")
                #expect(message?.seq == 1)
            }
        }
    }

    @Test func aTakenNameGetsASuffixAndNickChangesAreAnnounced() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await ChatClient.withSession(server.client("alice"), logger: testLogger) { first in
                try await ChatClient.withSession(server.client("ALICE"), logger: testLogger) { second in
                    #expect(second.welcome.you.name == "ALICE-2")
                    try await second.send(.nick(name: "bob"))
                    var events = first.events.makeAsyncIterator()
                    let nick = try await events.nextMatching(\.nick)
                    #expect(nick?.previousName == "ALICE-2")
                    #expect(nick?.user.name == "bob")
                    #expect(nick?.user.id == second.welcome.you.id)
                }
            }
        }
    }

    @Test func aGuestNameIsMadeUpWhenNoneIsGiven() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await ChatClient.withSession(server.client(nil), logger: testLogger) { session in
                #expect(session.welcome.you.name.hasPrefix("guest-"))
            }
        }
    }

    @Test func aResentIdIsStoredOnceAndAcknowledgedWithItsFirstSeq() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                try await alice.send(.message(id: "dup-1", text: "once"))
                try await alice.send(.message(id: "other", text: "between"))
                var events = alice.events.makeAsyncIterator()
                _ = try await events.nextMatching { $0.message?.id == "other" ? $0 : nil }
                // As after a reconnect: the same id again, on a new connection.
                try await ChatClient.withSession(server.client("alice-again"), logger: testLogger) { again in
                    try await again.send(.message(id: "dup-1", text: "once"))
                    var againEvents = again.events.makeAsyncIterator()
                    let ack = try await againEvents.nextMatching { frame -> Ack? in
                        if case .ack(let ack) = frame { return ack }
                        return nil
                    }
                    #expect(ack == Ack(id: "dup-1", seq: 1))
                }
            }
            try await ChatClient.withSession(server.client("reader", history: 10), logger: testLogger) { reader in
                #expect(reader.welcome.seq == 2)
                let replayed = try await reader.messages(2)
                #expect(replayed.map(\.text) == ["once", "between"])
            }
        }
    }
}

/// The per-connection rate limit: a flood is refused, others chat on, and `publish` keeps its order.
@Suite(.runsAlone(within: .seconds(60)), .timeLimit(.minutes(10)))
struct RateLimitTests {
    @Test func aFloodIsRefusedWhileACanaryKeepsChatting() async throws {
        // One token per 100 s: no refill can land while the 50 frames go out, however slowly (at 20/s a
        // run slowed by the tests beside it got a sixth ack).
        try await withChatServer(ServerConfiguration(rateLimit: 0.01, burst: 5)) { server in
            try await withRawWebSocket(port: server.port, target: "/ws?name=flood") { flood in
                guard case .welcome(let welcome)? = try await flood.nextServerFrame() else {
                    Issue.record("no welcome")
                    return
                }
                #expect(welcome.limits.rateLimit == 0.01)
                #expect(welcome.limits.burst == 5)
                for index in 1...50 {
                    try await flood.sendText(#"{"type":"message","id":"f-\#(index)","text":"flood \#(index)"}"#)
                }
                var acks = 0
                var refusals: [ServerError] = []
                while acks + refusals.count < 50, let frame = try await flood.nextServerFrame() {
                    if case .ack = frame { acks += 1 }
                    if case .error(let error) = frame { refusals.append(error) }
                }
                #expect(acks == 5)
                #expect(refusals.count == 45)
                #expect(refusals.allSatisfy { $0.code == "rate_limited" && ($0.retryAfter ?? 0) > 0 && $0.id != nil })
                // Someone else is not slowed down by the flood.
                let result = try await ChatPublisher.publish(
                    Lines(["canary"]),
                    configuration: server.client("canary"),
                    logger: testLogger
                )
                #expect(result.delivered == 1)
            }
        }
    }

    @Test(arguments: [true, false])
    func publishDeliversEverythingInOrderUnderTheLimit(pacing: Bool) async throws {
        try await withChatServer(ServerConfiguration(rateLimit: 200, burst: 20)) { server in
            let texts = (1...120).map { "m\($0)" }
            let result = try await ChatPublisher.publish(
                Lines(texts),
                configuration: server.client("bot"),
                options: ChatPublisher.Options(pacing: pacing),
                logger: testLogger
            )
            #expect(result.delivered == 120)
            #expect(result.lastSeq == 120)
            try await ChatClient.withSession(server.client("reader", history: 200), logger: testLogger) { reader in
                let replayed = try await reader.messages(120)
                #expect(replayed.map(\.text) == texts)
                #expect(replayed.map(\.seq) == (1...120).map(UInt64.init))
            }
        }
    }
}
