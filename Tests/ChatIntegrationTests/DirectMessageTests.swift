import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

/// Direct messages and typing notices through a real server: who gets them, and that the room's seqs
/// and history never see them.
@Suite(.timeLimit(.minutes(1)))
struct DirectMessageTests {
    @Test func onlyTheAddresseeAndTheSenderGetADirectMessageAndTheSeqsStayGapFree() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await withSessions(server, "alice", "bob", "carol") { alice, bob, carol in
                try await alice.send(.message(id: "m-1", text: "to everyone"))
                try await alice.send(.direct(id: "d-1", to: "BOB", text: "psst, bob"))
                try await alice.send(.message(id: "m-2", text: "to everyone again"))

                // The sender: the room message's ack and echo, then the seq-less ack before its DM's echo.
                var aliceFrames = alice.events.makeAsyncIterator()
                var seenByAlice: [ServerFrame] = []
                while seenByAlice.count < 6, let frame = try await aliceFrames.next() {
                    if frame.join == nil { seenByAlice.append(frame) }
                }
                #expect(seenByAlice.map(\.type) == ["ack", "message", "ack", "direct", "ack", "message"])
                #expect(seenByAlice[2].ack == Ack(id: "d-1", seq: nil))
                let direct = try #require(seenByAlice[3].direct)
                #expect(direct.id == "d-1" && direct.from == "alice" && direct.to == "bob")
                #expect(direct.uid == alice.welcome.you.id && direct.toUid == bob.welcome.you.id)
                #expect(direct.text == "psst, bob" && direct.room == .lobby)
                #expect(seenByAlice.compactMap(\.message).map(\.seq) == [1, 2])

                // The addressee: exactly the same frame, between the room's two messages.
                var bobFrames = bob.events.makeAsyncIterator()
                var seenByBob: [ServerFrame] = []
                while seenByBob.count < 3, let frame = try await bobFrames.next() {
                    if frame.join == nil { seenByBob.append(frame) }
                }
                #expect(seenByBob.map(\.type) == ["message", "direct", "message"])
                #expect(seenByBob[1].direct == direct)

                // A third member sees the room's messages with consecutive seqs and nothing else.
                var carolFrames = carol.events.makeAsyncIterator()
                var seenByCarol: [ServerFrame] = []
                while seenByCarol.count < 2, let frame = try await carolFrames.next() { seenByCarol.append(frame) }
                #expect(seenByCarol.compactMap(\.message).map(\.seq) == [1, 2])
                #expect(seenByCarol.count == 2)
            }
        }
    }

    @Test func aDirectMessageIsNeverReplayed() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await withSessions(server, "alice", "bob") { alice, _ in
                try await alice.send(.direct(id: "d-1", to: "bob", text: "secret"))
                try await alice.send(.message(id: "m-1", text: "public"))
                var events = alice.events.makeAsyncIterator()
                _ = try await events.nextMatching(\.message)
                try await ChatClient.withSession(server.client("dave", history: 10), logger: testLogger) { dave in
                    try await dave.send(.message(id: "x", text: "after"))
                    let replayed = try await dave.messages(2)
                    #expect(replayed.map(\.text) == ["public", "after"])
                    #expect(replayed.map(\.seq) == [1, 2])
                }
            }
        }
    }

    @Test func aNameNobodyHasIsRefusedAndTheRoomHearsNothing() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await withSessions(server, "alice", "bob") { alice, bob in
                try await alice.send(.direct(id: "d-1", to: "zed", text: "hello?"))
                var events = alice.events.makeAsyncIterator()
                let error = try #require(try await events.nextMatching(\.error))
                #expect(error.code == "no_such_user")
                #expect(error.id == "d-1")
                #expect(error.message == "nobody called 'zed' is in lobby")
                try await alice.send(.message(id: "m-1", text: "next"))
                var bobEvents = bob.events.makeAsyncIterator()
                let next = try await bobEvents.next()
                #expect(next?.message?.text == "next")
            }
        }
    }

    @Test func aMemberCanWriteToItselfAndGetsItOnce() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                try await alice.send(.direct(id: "d-1", to: "alice", text: "note to self"))
                try await alice.send(.message(id: "m-1", text: "then the room"))
                var events = alice.events.makeAsyncIterator()
                var frames: [ServerFrame] = []
                while frames.count < 4, let frame = try await events.next() { frames.append(frame) }
                #expect(frames.map(\.type) == ["ack", "direct", "ack", "message"])
            }
        }
    }

    @Test func typingGoesToTheOthersAtMostOnceInTheRelayInterval() async throws {
        try await withChatServer(logger: testLogger) { server in
            try await withSessions(server, "alice", "bob", "carol") { alice, bob, carol in
                // A client that says it three times at once is relayed once.
                try await alice.send(.typing)
                try await alice.send(.typing)
                try await alice.send(.typing)
                try await alice.send(.message(id: "m-1", text: "done typing"))
                for member in [bob, carol] {
                    var events = member.events.makeAsyncIterator()
                    var frames: [ServerFrame] = []
                    while let frame = try await events.next() {
                        if frame.join != nil { continue }
                        frames.append(frame)
                        if frame.message != nil { break }
                    }
                    #expect(frames.map(\.type) == ["typing", "message"])
                    #expect(frames.first?.typing?.user == alice.welcome.you)
                }
                // The one typing is not told about itself.
                var aliceEvents = alice.events.makeAsyncIterator()
                var own: [String] = []
                while let frame = try await aliceEvents.next() {
                    if frame.join != nil { continue }
                    own.append(frame.type)
                    if frame.message != nil { break }
                }
                #expect(own == ["ack", "message"])
            }
        }
    }

    @Test func aLargeRoomRelaysNoTyping() async throws {
        var configuration = ServerConfiguration()
        configuration.presenceLimit = 2
        try await withChatServer(configuration, logger: testLogger) { server in
            try await withSessions(server, "alice", "bob", "carol") { alice, bob, _ in
                // Three members is over this server's limit of two: typing would cost n² frames.
                try await alice.send(.typing)
                try await alice.send(.message(id: "m-1", text: "after"))
                var events = bob.events.makeAsyncIterator()
                var frames: [String] = []
                while let frame = try await events.next() {
                    frames.append(frame.type)
                    if frame.message != nil { break }
                }
                #expect(!frames.contains("typing"))
                #expect(frames.last == "message")
            }
        }
    }
}

/// Sessions for `names` in the lobby, each joined once the ones before it saw it arrive.
func withSessions(
    _ server: TestServer,
    _ first: String,
    _ second: String,
    _ body: @Sendable (ChatSession, ChatSession) async throws -> Void
) async throws {
    try await ChatClient.withSession(server.client(first), logger: testLogger) { one in
        try await ChatClient.withSession(server.client(second), logger: testLogger) { two in
            try await body(one, two)
        }
    }
}

func withSessions(
    _ server: TestServer,
    _ first: String,
    _ second: String,
    _ third: String,
    _ body: @Sendable (ChatSession, ChatSession, ChatSession) async throws -> Void
) async throws {
    try await withSessions(server, first, second) { one, two in
        try await ChatClient.withSession(server.client(third), logger: testLogger) { three in
            try await body(one, two, three)
        }
    }
}
