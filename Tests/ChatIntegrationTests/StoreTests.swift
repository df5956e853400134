import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Foundation
import Testing

/// `--store`: history, seqs and de-duplication outlive the server process.
@Suite(.runsAlone(within: .seconds(60)), .timeLimit(.minutes(10)))
struct StoreTests {
    @Test func historySeqsAndIdsSurviveARestart() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.db").path
            let epoch = try await withStore(at: path) { store in
                try await withChatServer(logger: testLogger, store: .file(store)) { server in
                    try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                        for index in 1...3 { try await alice.send(.message(id: "m-\(index)", text: "\(index)")) }
                        var events = alice.events.makeAsyncIterator()
                        var acks: [Ack] = []
                        while acks.count < 3, let ack = try await events.nextMatching(\.ack) { acks.append(ack) }
                        #expect(acks == (1...3).map { Ack(id: "m-\($0)", seq: UInt64($0)) })
                    }
                }
                return store.epoch
            }
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            try await withStore(at: path) { reopened in
                #expect(reopened.epoch == epoch)
                try await withChatServer(logger: testLogger, store: .file(reopened)) { server in
                    var configuration = server.client("bob", since: 1)
                    configuration.epoch = epoch
                    try await ChatClient.withSession(configuration, logger: testLogger) { bob in
                        #expect(bob.welcome.seq == 3)
                        #expect(bob.welcome.epoch == epoch)
                        #expect(bob.welcome.recovered == true)
                        // A message stored before the restart and resent after it keeps its seq and is not
                        // broadcast again: the next message bob sees after the replay is the new one.
                        try await bob.send(.message(id: "m-2", text: "2"))
                        try await bob.send(.message(id: "m-4", text: "4"))
                        var events = bob.events.makeAsyncIterator()
                        var messages: [ChatMessage] = []
                        var acks: [Ack] = []
                        while messages.count < 3 || acks.count < 2, let frame = try await events.next() {
                            if let message = frame.message { messages.append(message) }
                            if let ack = frame.ack { acks.append(ack) }
                        }
                        #expect(messages.map(\.seq) == [2, 3, 4])
                        #expect(messages.map(\.text) == ["2", "3", "4"])
                        #expect(acks == [Ack(id: "m-2", seq: 2), Ack(id: "m-4", seq: 4)])
                    }
                }
            }
        }
    }

    @Test func aResumeOlderThanTheHistoryIsServedFromTheStore() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(at: directory.appendingPathComponent("chat.db").path) { store in
                try await withChatServer(ServerConfiguration(historySize: 2), logger: testLogger, store: .file(store)) {
                    server in
                    _ = try await ChatPublisher.publish(
                        Lines((1...10).map { "m\($0)" }),
                        configuration: server.client("alice"),
                        logger: testLogger
                    )
                    var configuration = server.client("bob", since: 3)
                    configuration.epoch = store.epoch
                    try await ChatClient.withSession(configuration, logger: testLogger) { bob in
                        #expect(bob.welcome.recovered == true)
                        let replayed = try await bob.messages(7)
                        #expect(replayed.map(\.seq) == Array(4...10))
                    }
                }
            }
        }
    }

    @Test func aSlowStoreRefusesWithRetryAfterAndSendStillDeliversEverythingInOrder() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(at: directory.appendingPathComponent("chat.db").path) { store in
                // A backlog of one: a message that comes while another is on its way to the disk is refused.
                // (With a larger one a fast disk — /tmp on tmpfs — kept up with 50 and nothing was refused.)
                let tiny = ServerConfiguration(rateLimit: 0, storeBacklog: 1)
                try await withChatServer(tiny, logger: testLogger, store: .file(store)) { server in
                    try await withRawWebSocket(port: server.port, target: "/ws?name=raw") { raw in
                        // All at once: posted in one burst, faster than any disk can confirm the first.
                        try await raw.sendTexts((1...50).map { #"{"type":"message","id":"r-\#($0)","text":"x"}"# })
                        var refusal: ServerError?
                        while refusal == nil, let frame = try await raw.nextServerFrame() { refusal = frame.error }
                        #expect(refusal?.code == ChatErrorCode.rateLimited)
                        #expect(refusal?.retryAfter == 0.1)
                        #expect(
                            refusal?.message
                                == "the server cannot store messages this fast right now; resend after retryAfter"
                        )
                    }
                }
                // Sending through the refusals: a small backlog, and `send`'s resends keep everything in order.
                let configuration = ServerConfiguration(rateLimit: 0, storeBacklog: 16)
                try await withChatServer(configuration, logger: testLogger, store: .file(store)) { server in
                    let texts = (1...200).map { "line \($0)" }
                    let result = try await ChatPublisher.publish(
                        Lines(texts),
                        configuration: server.client("bot"),
                        logger: testLogger
                    )
                    #expect(result.delivered == 200)
                    try await ChatClient.withSession(server.client("reader", history: 1000), logger: testLogger) {
                        reader in
                        // The raw client's accepted messages come first; then the bot's, each once, in order.
                        let replayed = try await reader.messages(Int(reader.welcome.seq))
                        #expect(replayed.map(\.text).filter { $0.hasPrefix("line ") } == texts)
                    }
                }
            }
        }
    }

    @Test func aStoreServesOneServerAtATime() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.db").path
            let epoch = try await withStore(at: path) { store in
                await #expect {
                    _ = try await MessageStore.open(path: path, logger: testLogger)
                } throws: { error in
                    "\(error)" == "store \(path): database is locked (is another chat serve using it?)"
                }
                return store.epoch
            }
            // Once the first one is closed, the file opens again.
            try await withStore(at: path) { again in #expect(again.epoch == epoch) }
        }
    }

    @Test func aFileThatIsNotAStoreIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            try Data("just some text, not a database\n".utf8).write(to: URL(fileURLWithPath: path))
            await #expect {
                _ = try await MessageStore.open(path: path, logger: testLogger)
            } throws: { error in
                "\(error)" == "store \(path): file is not a database"
            }
            // Nothing was written into it.
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "just some text, not a database\n")
        }
    }
}

/// Runs `body` with the store at `path` open, and closes it however `body` ends.
func withStore<T>(at path: String, _ body: (MessageStore) async throws -> T) async throws -> T {
    let store = try await MessageStore.open(path: path, logger: testLogger)
    do {
        let result = try await body(store)
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}
