import ChatClient
import ChatProtocol
import ChatServer
import ChatTestSupport
import Foundation
import Synchronization
import Testing

/// What every log behind a server must do — memory, a SQLite file, a cluster's PostgreSQL — run against
/// each: one suite for the one seam, so a fourth back end (or a change to one of the three) is held to the
/// same contract. What only some logs keep (messages past the history, seqs past a restart) is asserted as
/// the log's kind says.
@Suite(.runsAlone(within: .seconds(120)), .timeLimit(.minutes(10)))
struct RoomLogTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case memory, file, cluster

        var testDescription: String { self.rawValue }
        /// Whether messages outlive the server and its rooms' histories.
        var isDurable: Bool { self != .memory }
    }

    @Test(arguments: Kind.allCases)
    func aMessageIsAckedAndEchoedWithItsSeqAndAResendKeepsIt(_ kind: Kind) async throws {
        try await withLog(kind) { open in
            try await withChatServer(logger: testLogger, store: try await open()) { server in
                try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                    try await alice.send(.message(id: "m-1", text: "one"))
                    try await alice.send(.message(id: "m-2", text: "two"))
                    // A resend of an id the log has: the same seq, and no second broadcast.
                    try await alice.send(.message(id: "m-1", text: "one"))
                    try await alice.send(.message(id: "m-3", text: "three"))
                    var events = alice.events.makeAsyncIterator()
                    var acks: [Ack] = []
                    var messages: [ChatMessage] = []
                    while acks.count < 4 || messages.count < 3, let frame = try await events.next() {
                        if let ack = frame.ack { acks.append(ack) }
                        if let message = frame.message { messages.append(message) }
                    }
                    // A log that confirms later acks a resend with its first copy, so the order may differ.
                    let seqs: [MessageID: UInt64] = ["m-1": 1, "m-2": 2, "m-3": 3]
                    #expect(acks.count == 4)
                    #expect(acks.allSatisfy { seqs[$0.id] == $0.seq }, "\(acks)")
                    #expect(messages.map(\.seq) == [1, 2, 3])
                    #expect(messages.map(\.text) == ["one", "two", "three"])
                }
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func aResumeOlderThanTheHistoryIsReadBackWhereTheLogKeepsIt(_ kind: Kind) async throws {
        try await withLog(kind) { open in
            try await withChatServer(ServerConfiguration(historySize: 2), logger: testLogger, store: try await open()) {
                server in
                let published = try await ChatPublisher.publish(
                    Lines((1...6).map { "m\($0)" }),
                    configuration: server.client("alice"),
                    logger: testLogger
                )
                #expect(published.delivered == 6)
                try await ChatClient.withSession(server.client("bob", since: 1), logger: testLogger) { bob in
                    #expect(bob.welcome.seq == 6)
                    if kind.isDurable {
                        #expect(bob.welcome.recovered == true)
                        let replayed = try await bob.messages(5)
                        #expect(replayed.map(\.seq) == Array(2...6))
                    } else {
                        // The history holds 5 and 6: the client is told where it starts.
                        #expect(bob.welcome.recovered == false)
                        #expect(bob.welcome.firstSeq == 5)
                    }
                }
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func aRestartKeepsTheEpochSeqsAndHistoryWhereTheLogKeepsThem(_ kind: Kind) async throws {
        try await withLog(kind) { open in
            let epoch = try await withChatServer(logger: testLogger, store: try await open()) { server in
                try await ChatClient.withSession(server.client("alice"), logger: testLogger) { alice in
                    for index in 1...3 { try await alice.send(.message(id: "m-\(index)", text: "\(index)")) }
                    var events = alice.events.makeAsyncIterator()
                    var acks = 0
                    while acks < 3, try await events.nextMatching(\.ack) != nil { acks += 1 }
                    return alice.welcome.epoch
                }
            }
            try await withChatServer(logger: testLogger, store: try await open()) { server in
                var configuration = server.client("bob", since: 1)
                configuration.epoch = epoch
                try await ChatClient.withSession(configuration, logger: testLogger) { bob in
                    if kind.isDurable {
                        #expect(bob.welcome.epoch == epoch)
                        #expect(bob.welcome.seq == 3)
                        #expect(bob.welcome.recovered == true)
                        let replayed = try await bob.messages(2)
                        #expect(replayed.map(\.text) == ["2", "3"])
                    } else {
                        // A new run is a new seq space: the resume cannot be honoured, and says so.
                        #expect(bob.welcome.epoch != epoch)
                        #expect(bob.welcome.seq == 0)
                        #expect(bob.welcome.recovered == false)
                    }
                }
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func roomsListsEveryRoomWithItsLastSeq(_ kind: Kind) async throws {
        try await withLog(kind) { open in
            try await withChatServer(logger: testLogger, store: try await open()) { server in
                for room in ["ops", "deploy"] {
                    let published = try await ChatPublisher.publish(
                        Lines(["a", "b"]),
                        configuration: server.client("bot", room: RoomName(rawValue: room)!),
                        logger: testLogger
                    )
                    #expect(published.delivered == 2)
                }
                let response = try await rawHTTPExchange(
                    port: server.port,
                    request: "GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n"
                )
                #expect(httpStatus(response) == 200)
                let body = String(response.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")
                let list = try JSONDecoder().decode(RoomList.self, from: Data(body.utf8))
                let seqs = Dictionary(list.rooms.map { ($0.name.rawValue, $0.lastSeq) }, uniquingKeysWith: max)
                #expect(seqs["ops"] == 2)
                #expect(seqs["deploy"] == 2)
            }
        }
    }
}

/// Runs `body` with a way to open the store of `kind` — the same file or database each time, so a second
/// server on it is a restart — and closes what it opened.
private func withLog<T: Sendable>(
    _ kind: RoomLogTests.Kind,
    _ body: (_ open: @escaping @Sendable () async throws -> ServerStore) async throws -> T
) async throws -> T {
    switch kind {
    case .memory:
        return try await body { .memory }
    case .file:
        return try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.db").path
            let opened = Mutex<MessageStore?>(nil)
            let open: @Sendable () async throws -> ServerStore = {
                // One server owns the file at a time: the previous one's is closed first.
                if let previous = opened.withLock({ $0.take() }) { await previous.close() }
                let store = try await MessageStore.open(path: path, logger: testLogger)
                opened.withLock { $0 = store }
                return .file(store)
            }
            let result = await Result { try await body(open) }
            if let last = opened.withLock({ $0.take() }) { await last.close() }
            return try result.get()
        }
    case .cluster:
        let url = try TestPostgres.shared().createDatabase()
        return try await body {
            .cluster(try await ClusterStore.open(try PostgresLocation.parse(url), name: "test", logger: testLogger))
        }
    }
}

extension Result where Failure == any Error {
    fileprivate init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
