import ChatCore
import ChatTestSupport
import Foundation
import Testing

/// `--store`: history, seqs and de-duplication outlive the server process.
@Suite(.timeLimit(.minutes(1)))
struct StoreTests {
    @Test func historySeqsAndIdsSurviveARestart() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.db").path
            let store = try await MessageStore.open(path: path, logger: testLogger)
            let epoch = store.epoch
            try await withChatServer(logger: testLogger, store: store) { server in
                try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                    for index in 1...3 { try await alice.send(.message(id: "m-\(index)", text: "\(index)")) }
                    var events = alice.events.makeAsyncIterator()
                    var acks: [Ack] = []
                    while acks.count < 3, let ack = try await events.nextMatching(\.ack) { acks.append(ack) }
                    #expect(acks == (1...3).map { Ack(id: "m-\($0)", seq: UInt64($0)) })
                }
            }
            await store.close()

            let reopened = try await MessageStore.open(path: path, logger: testLogger)
            #expect(reopened.epoch == epoch)
            try await withChatServer(logger: testLogger, store: reopened) { server in
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
            await reopened.close()
        }
    }

    @Test func aResumeOlderThanTheHistoryIsServedFromTheStore() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await MessageStore.open(
                path: directory.appendingPathComponent("chat.db").path,
                logger: testLogger
            )
            try await withChatServer(ServerConfiguration(historySize: 2), logger: testLogger, store: store) { server in
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
            await store.close()
        }
    }

    @Test func aStoreServesOneServerAtATime() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.db").path
            let store = try await MessageStore.open(path: path, logger: testLogger)
            await #expect {
                _ = try await MessageStore.open(path: path, logger: testLogger)
            } throws: { error in
                "\(error)" == "store \(path): database is locked (is another chat serve using it?)"
            }
            await store.close()
            // Once the first one is closed, the file opens again.
            let again = try await MessageStore.open(path: path, logger: testLogger)
            #expect(again.epoch == store.epoch)
            await again.close()
        }
    }

    @Test func aFileThatIsNotAStoreIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            try Data("just some text, not a database\n".utf8).write(to: URL(fileURLWithPath: path))
            await #expect {
                _ = try await MessageStore.open(path: path, logger: testLogger)
            } throws: { error in
                "\(error)".hasPrefix("store \(path): ")
            }
            // Nothing was written into it.
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "just some text, not a database\n")
        }
    }
}

/// Runs `body` with a new empty directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}
