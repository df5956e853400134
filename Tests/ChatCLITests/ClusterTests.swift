import ChatClient
import ChatProtocol
import ChatTestSupport
import Foundation
import Testing

/// Several `chat serve` processes on one real PostgreSQL are one service: the same rooms, seqs, history
/// and members on every node.
@Suite(.runsAlone(within: .seconds(180)), .timeLimit(.minutes(10)))
struct ClusterTests {
    /// `count` nodes on a database of their own (on the shared server unless `postgres` is given).
    static func nodes(
        _ count: Int,
        _ arguments: [String] = [],
        on postgres: TestPostgres? = nil
    ) async throws -> (database: String, nodes: [ServeProcess]) {
        let database = try (postgres ?? TestPostgres.shared()).createDatabase()
        var nodes: [ServeProcess] = []
        for _ in 0..<count {
            nodes.append(try await ServeProcess.start(["--store", database, "--rate-limit", "0"] + arguments))
        }
        return (database, nodes)
    }

    /// The JSON lines of `chat tail --json` as messages.
    static func messages(_ lines: [String]) throws -> [ChatMessage] {
        try lines.map { try JSONDecoder().decode(ChatMessage.self, from: Data($0.utf8)) }
    }

    /// `seq 1 total | chat send` into the cluster while a `chat tail --strict --name tailer` follows it,
    /// for the tests that break something mid-stream.
    struct Stream {
        let total: Int
        let tail: ChatProcess
        var send: ChatProcess?
        var lines: AsyncStream<String>.Iterator
        var printed: [String] = []

        /// Starts the tail on `url` (a server or a list of them); wait for `tailer` before `send(to:)`.
        init(total: Int, tailOn url: String) throws {
            self.total = total
            self.tail = try ChatProcess(
                ["tail", url, "--json", "--count", "\(total)", "--strict", "--name", "tailer"]
            )
            self.lines = self.tail.stdout.makeAsyncIterator()
        }

        /// Starts the sender (`bot`) on `url` and returns once a fifth of the lines are printed.
        mutating func send(to url: String) async throws {
            self.send = try ChatProcess([], shell: "seq 1 \(self.total) | \"$CHAT\" send \(url) --name bot")
            while self.printed.count < self.total / 5, let line = await self.lines.next() { self.printed.append(line) }
        }

        /// Reads the rest: `send` and the tail exit 0, and the tail printed 1…total once each, in order.
        mutating func finish() async throws {
            while let line = await self.lines.next() { self.printed.append(line) }
            #expect(await self.send?.exitCode() == 0)
            #expect(await self.tail.exitCode() == 0)
            let messages = try ClusterTests.messages(self.printed)
            #expect(messages.map(\.text) == (1...self.total).map(String.init))
            #expect(messages.map(\.seq) == (1...UInt64(self.total)).map { $0 })
        }
    }

    @Test func linesSentToOneNodeAreTailedOnAnotherOnceEachInOrder() async throws {
        let (_, nodes) = try await Self.nodes(2)
        let tail = try ChatProcess(["tail", nodes[1].url, "--json", "--count", "500", "--name", "tailer"])
        try await waitForMember("tailer", url: nodes[0].url)
        let send = try ChatProcess([], shell: "seq 1 500 | \"$CHAT\" send \(nodes[0].url) --name bot")
        #expect(await send.exitCode() == 0)
        #expect(await tail.exitCode() == 0)
        let messages = try Self.messages(await ChatProcess.collect(tail.stdout))
        #expect(messages.map(\.text) == (1...500).map(String.init))
        #expect(messages.map(\.seq) == (1...500).map(UInt64.init))
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func twoSendersOnTwoNodesGetOneOrderAndGapFreeSeqs() async throws {
        let (database, nodes) = try await Self.nodes(2)
        let total = 4000
        let tails = try nodes.enumerated().map { index, node in
            try ChatProcess(["tail", node.url, "--json", "--count", "\(total)", "--name", "tail\(index)"])
        }
        try await waitForMember("tail0", url: nodes[1].url)
        try await waitForMember("tail1", url: nodes[0].url)
        let sends = try nodes.enumerated().map { index, node in
            try ChatProcess([], shell: "seq -f 'n\(index)-%g' 1 2000 | \"$CHAT\" send \(node.url) --name bot\(index)")
        }
        for send in sends { #expect(await send.exitCode() == 0) }
        var printed: [[ChatMessage]] = []
        for tail in tails {
            #expect(await tail.exitCode() == 0)
            printed.append(try Self.messages(await ChatProcess.collect(tail.stdout)))
        }
        #expect(printed[0].map(\.seq) == (1...UInt64(total)).map { $0 })
        #expect(printed[0].map(\.id) == printed[1].map(\.id), "both nodes print the same messages in the same order")
        let texts = Set(printed[0].map(\.text))
        let expected = Set((1...2000).flatMap { ["n0-\($0)", "n1-\($0)"] })
        #expect(texts == expected, "every line once")
        // Each sender's own lines stay in the order it sent them.
        for index in 0..<2 {
            let own = printed[0].map(\.text).filter { $0.hasPrefix("n\(index)-") }
            #expect(own == (1...2000).map { "n\(index)-\($0)" })
        }
        let stored = try TestPostgres.shared().query("SELECT count(*), max(seq) FROM chat_messages", database: database)
        #expect(stored == "\(total)|\(total)")
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func theSameIDSentToTwoNodesIsStoredOnceWithOneSeq() async throws {
        let (database, nodes) = try await Self.nodes(2)
        var seqs: [UInt64] = []
        for node in nodes {
            try await ChatClient.withSession(
                ClientConfiguration(url: try ChatURL(parsing: node.url), name: "resender"),
                logger: quietLogger
            ) { session in
                try await session.send(.message(id: "same-id-1", text: "once"))
                for try await frame in session.events {
                    if case .ack(let ack) = frame, ack.id == "same-id-1" {
                        seqs.append(try #require(ack.seq))
                        break
                    }
                }
            }
        }
        #expect(seqs == [1, 1])
        let stored = try TestPostgres.shared().query("SELECT count(*) FROM chat_messages", database: database)
        #expect(stored == "1")
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func membersOnEveryNodeAreOneRoster() async throws {
        let (_, nodes) = try await Self.nodes(2)
        let first = try ClientConfiguration(url: ChatURL(parsing: nodes[0].url), name: "alice")
        let second = try ClientConfiguration(url: ChatURL(parsing: nodes[1].url), name: "alice")
        try await ChatClient.withSession(first, logger: quietLogger) { alice in
            try await ChatClient.withSession(second, logger: quietLogger) { other in
                // The name is taken on the other node, so this one gets the suffix — and sees alice.
                #expect(other.welcome.you.name == "alice-2")
                #expect(other.welcome.users.map(\.name) == ["alice", "alice-2"])
                try await alice.waitForJoin(of: "alice-2")
                try await other.send(.nick(name: "bob"))
                #expect(try await alice.nextPresence() == "nick alice-2 bob")
                #expect(try await other.nextPresence() == "nick alice-2 bob")
            }
            #expect(try await alice.nextPresence() == "leave bob")
        }
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func aNodeKilledMidStreamLosesNothingAndItsMembersLeaveTheOtherNodes() async throws {
        let (database, nodes) = try await Self.nodes(2)
        let total = 3000
        // Both clients start on node 0 and know node 1 as the next server of the list.
        let list = "\(nodes[0].url),\(nodes[1].url)"
        var stream = try Stream(total: total, tailOn: list)
        try await ChatClient.withSession(
            ClientConfiguration(url: try ChatURL(parsing: nodes[1].url), name: "watcher"),
            logger: quietLogger
        ) { watcher in
            try await watcher.waitForMember("tailer")
            try await stream.send(to: list)
            nodes[0].process.signal(SIGKILL)
            #expect(await nodes[0].process.exitCode() == SIGKILL)
            let killed = ContinuousClock.now

            // The killed node's members leave the room on the node that lives, however its clients reconnect.
            var left: Set<String> = []
            while !left.isSuperset(of: ["tailer", "bot"]), let event = try await watcher.nextPresence() {
                if event.hasPrefix("leave ") { left.insert(String(event.dropFirst("leave ".count))) }
            }
            #expect(left.isSuperset(of: ["tailer", "bot"]))
            #expect(ContinuousClock.now - killed < .seconds(10))
            try await stream.finish()
        }
        let stored = try TestPostgres.shared().query("SELECT count(*), max(seq) FROM chat_messages", database: database)
        #expect(stored == "\(total)|\(total)")
        #expect(await nodes[1].stop() == 0)
    }

    @Test func aClientResumingFromASeqItsNewNodeHasNotDeliveredYetIsAdmittedCaughtUp() async throws {
        let (database, nodes) = try await Self.nodes(1)
        let url = try ChatURL(parsing: nodes[0].url)
        try await ChatClient.withSession(ClientConfiguration(url: url, name: "watcher"), logger: quietLogger) { _ in
            // Committed by "another node" that never rang the bell: only the once-a-second poll would find
            // them, but a client that saw them there must not be told its resume is a gap.
            _ = try TestPostgres.shared().query(
                """
                INSERT INTO chat_messages (room, seq, id, client_id, sender, uid, body, ts)
                SELECT 'lobby', n, 'm-' || n, false, 'bot', 'u-bot', 'line ' || n, '2026-12-01T00:00:00.000Z'
                FROM generate_series(1, 5) AS n;
                INSERT INTO chat_rooms (name, last_seq) VALUES ('lobby', 5)
                ON CONFLICT (name) DO UPDATE SET last_seq = 5
                """,
                database: database
            )
            let resuming = ClientConfiguration(url: url, name: "resumer", since: 3)
            try await ChatClient.withSession(resuming, logger: quietLogger) { session in
                #expect(session.welcome.recovered == true)
                #expect(session.welcome.seq == 5)
                var replayed: [UInt64] = []
                for try await frame in session.events {
                    if case .message(let message) = frame { replayed.append(message.seq) }
                    if replayed.count == 2 { break }
                }
                #expect(replayed == [4, 5])
            }
        }
        #expect(await nodes[0].stop() == 0)
    }

    @Test func postgresCrashingMidStreamLosesNothingAndNodesReportItMeanwhile() async throws {
        let postgres = try TestPostgres.privateServer()
        defer { postgres.stop() }
        let (database, nodes) = try await Self.nodes(2, on: postgres)
        let total = 3000
        var stream = try Stream(total: total, tailOn: nodes[1].url)
        try await waitForMember("tailer", url: nodes[0].url)
        try await stream.send(to: nodes[0].url)

        try postgres.crash()
        // While the database is gone, a load balancer is told to send clients elsewhere.
        for node in nodes {
            let status = try await Self.healthz(node.port, until: { $0.hasPrefix("HTTP/1.1 503") })
            #expect(status.hasPrefix("HTTP/1.1 503"))
            // And a new client is refused the same way, so it (or nginx) tries another node.
            let upgrade = try await rawHTTPExchange(port: node.port, request: rawUpgradeRequest(path: "/ws?name=late"))
            #expect(upgrade.hasPrefix("HTTP/1.1 503"), "\(upgrade)")
        }
        try postgres.restart()

        try await stream.finish()
        let stored = try postgres.query("SELECT count(*), max(seq) FROM chat_messages", database: database)
        #expect(stored == "\(total)|\(total)")
        for node in nodes {
            let status = try await Self.healthz(node.port, until: { $0.hasPrefix("HTTP/1.1 200") })
            #expect(status.hasPrefix("HTTP/1.1 200"))
            #expect(await node.stop() == 0)
        }
    }

    @Test func aListenerConnectionTerminatedMidStreamCostsNoMessage() async throws {
        let (database, nodes) = try await Self.nodes(2)
        var stream = try Stream(total: 3000, tailOn: nodes[1].url)
        try await waitForMember("tailer", url: nodes[0].url)
        try await stream.send(to: nodes[0].url)
        // What is notified while no one listens is gone for good: the node must catch up from the table.
        let terminated = try TestPostgres.shared().query(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE application_name LIKE 'chat listener %' AND datname = current_database()
            """,
            database: database
        )
        #expect(terminated == "2")
        try await stream.finish()
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func aNodeRefusesADatabaseThatWouldNotMakeCommitsDurable() async throws {
        let postgres = try TestPostgres.shared()
        let database = try postgres.createDatabase()
        let name = String(database.split(separator: "/").last ?? "")
        _ = try postgres.query("ALTER DATABASE \(name) SET synchronous_commit = off")
        let serve = try ChatProcess(["serve", "--port", "0", "--store", database])
        #expect(await serve.exitCode() != 0)
        let errors = await ChatProcess.collect(serve.stderr)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.contains("synchronous_commit is off") == true, "\(errors)")
    }
}

extension ClusterTests {
    /// The status line of `GET /healthz`, asked every 50 ms until `done` accepts it (a test's time limit
    /// bounds the wait).
    static func healthz(_ port: Int, until done: (String) -> Bool) async throws -> String {
        while true {
            let response = try await rawHTTPExchange(
                port: port,
                request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            let status = String(response.prefix { $0 != "\r" })
            if done(status) { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension ChatSession {
    /// The next join, leave or nick, as `join NAME`, `leave NAME` or `nick OLD NEW`.
    func nextPresence() async throws -> String? {
        for try await frame in self.events {
            switch frame {
            case .join(let event): return "join \(event.user.name)"
            case .leave(let event): return "leave \(event.user.name)"
            case .nick(let event): return "nick \(event.previousName ?? "") \(event.user.name)"
            default: continue
            }
        }
        return nil
    }
}
