import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Testing

/// A room with more members than the presence limit stops announcing joins and leaves, and its welcome
/// lists only the first members — n joins would otherwise cost n² frames and n² bytes of member lists.
@Suite(.timeLimit(.minutes(1)))
struct LargeRoomTests {
    @Test func beyondThePresenceLimitJoinsAreQuietAndTheWelcomeIsCapped() async throws {
        var configuration = ServerConfiguration()
        configuration.presenceLimit = 2
        try await withChatServer(configuration, logger: testLogger) { server in
            let logger = testLogger
            try await ChatClient.withSession(server.client("a"), logger: logger) { a in
                try await ChatClient.withSession(server.client("b"), logger: logger) { b in
                    #expect(b.welcome.users.map(\.name) == ["a", "b"])
                    #expect(b.welcome.userCount == 2)
                    try await ChatClient.withSession(server.client("c"), logger: logger) { c in
                        #expect(c.welcome.users.map(\.name) == ["a", "b"])
                        #expect(c.welcome.userCount == 3)
                        // a saw b join, but not c: the next thing a sees is c's message.
                        try await c.send(.message(id: "c-1", text: "hello"))
                        var events = a.events.makeAsyncIterator()
                        var seen: [String] = []
                        while let event = try await events.next() {
                            switch event {
                            case .join(let join): seen.append("join \(join.user.name)")
                            case .message(let message):
                                seen.append("message \(message.text)")
                            default: continue
                            }
                            if seen.last?.hasPrefix("message") == true { break }
                        }
                        #expect(seen == ["join b", "message hello"])
                    }
                }
            }
        }
    }
}
