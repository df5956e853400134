import ChatClient
import ChatProtocol
import ChatTestSupport
import Testing

/// Direct messages and typing between members on different nodes of a cluster (real PostgreSQL).
@Suite(.runsAlone(within: .seconds(120)), .timeLimit(.minutes(5)))
struct ClusterDirectTests {
    /// alice and dave on the first node, bob and carol on the second; `body` runs once everyone saw
    /// everyone join.
    static func withFour(
        _ body:
            @Sendable (_ alice: ChatSession, _ bob: ChatSession, _ carol: ChatSession, _ dave: ChatSession)
            async throws -> Void
    ) async throws {
        let (_, nodes) = try await ClusterTests.nodes(2)
        func client(_ node: Int, _ name: String) throws -> ClientConfiguration {
            ClientConfiguration(url: try ChatURL(parsing: nodes[node].url), name: name)
        }
        try await ChatClient.withSession(try client(0, "alice"), logger: quietLogger) { alice in
            try await ChatClient.withSession(try client(1, "bob"), logger: quietLogger) { bob in
                try await alice.waitForJoin(of: "bob")
                try await ChatClient.withSession(try client(1, "carol"), logger: quietLogger) { carol in
                    try await alice.waitForJoin(of: "carol")
                    try await bob.waitForJoin(of: "carol")
                    try await ChatClient.withSession(try client(0, "dave"), logger: quietLogger) { dave in
                        for member in [alice, bob, carol] { try await member.waitForJoin(of: "dave") }
                        try await body(alice, bob, carol, dave)
                    }
                }
            }
        }
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func aDirectMessageCrossesNodesToItsAddresseeOnlyAndTheSeqsStayGapFree() async throws {
        try await Self.withFour { alice, bob, carol, dave in
            // Longer than a NOTIFY payload can hold (8000 bytes): the text travels in the table.
            let long = String(repeating: "0123456789", count: 2_000) + " ✓"
            try await alice.send(.message(id: "m-1", text: "one"))
            try await alice.send(.direct(id: "d-1", to: "Bob", text: long))
            try await alice.send(.direct(id: "d-2", to: "nobody", text: "hello?"))
            try await alice.send(.message(id: "m-2", text: "two"))

            // The sender: its DM acknowledged without a seq and echoed; the unknown name refused.
            var aliceSaw: [ServerFrame] = []
            for try await frame in alice.events {
                aliceSaw.append(frame)
                if aliceSaw.contains(where: { $0.isDirect }) && aliceSaw.contains(where: { $0.isMessage("two") })
                    && aliceSaw.contains(where: { $0.type == "error" })
                {
                    break
                }
            }
            #expect(aliceSaw.contains(.ack(Ack(id: "d-1", seq: nil))))
            let errors = aliceSaw.compactMap { if case .error(let error) = $0 { error } else { nil } }
            #expect(errors.map(\.code) == ["no_such_user"] && errors.first?.id == "d-2")

            // The addressee on the other node: the whole text, from alice, to bob.
            var bobSaw: [ServerFrame] = []
            for try await frame in bob.events {
                bobSaw.append(frame)
                if bobSaw.contains(where: { $0.isDirect }) && bobSaw.contains(where: { $0.isMessage("two") }) { break }
            }
            let direct = try #require(bobSaw.compactMap { if case .direct(let d) = $0 { d } else { nil } }.first)
            #expect(direct.text == long && direct.from == "alice" && direct.to == "bob" && direct.id == "d-1")
            #expect(direct.toUid == bob.welcome.you.id)

            // Now that bob has it, one more message: the others see the three with consecutive seqs, no DM.
            try await alice.send(.message(id: "m-3", text: "three"))
            for member in [carol, dave] {
                var seen: [ServerFrame] = []
                for try await frame in member.events {
                    seen.append(frame)
                    if frame.isMessage("three") { break }
                }
                #expect(!seen.contains(where: { $0.isDirect }))
                let seqs = seen.compactMap { if case .message(let m) = $0 { m.seq } else { nil } }
                #expect(seqs.count == 3 && seqs == Array(seqs[0]...seqs[0] + 2))
            }
        }
    }

    @Test func directMessagesToAnotherNodeArriveInTheOrderSent() async throws {
        try await Self.withFour { alice, bob, _, _ in
            for index in 1...200 { try await alice.send(.direct(id: "d-\(index)", to: "bob", text: "dm \(index)")) }
            var texts: [String] = []
            for try await frame in bob.events {
                if case .direct(let direct) = frame { texts.append(direct.text) }
                if texts.count == 200 { break }
            }
            #expect(texts == (1...200).map { "dm \($0)" })
        }
    }

    @Test func typingOnOneNodeIsShownOnTheOther() async throws {
        try await Self.withFour { alice, bob, carol, _ in
            try await alice.send(.typing)
            for member in [bob, carol] {
                var typing: PresenceEvent?
                for try await frame in member.events {
                    if case .typing(let event) = frame {
                        typing = event
                        break
                    }
                }
                #expect(typing?.user == alice.welcome.you)
            }
        }
    }
}

extension ServerFrame {
    fileprivate var isDirect: Bool {
        if case .direct = self { true } else { false }
    }

    fileprivate func isMessage(_ text: String) -> Bool {
        if case .message(let message) = self { message.text == text } else { false }
    }
}
