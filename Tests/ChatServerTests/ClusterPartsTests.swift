import Testing

@testable import ChatClient
@testable import ChatProtocol
@testable import ChatServer

/// The cluster's pieces that need no database: its URL, its notices, a room taking committed messages,
/// and the clients' list of servers.
@Suite struct ClusterPartsTests {
    @Test(
        arguments: [
            ("postgres://chat@127.0.0.1:5432/chat", "chat", nil, "127.0.0.1", 5432, "chat"),
            ("postgresql://u:p%40ss@db.example/app", "u", "p@ss", "db.example", 5432, "app"),
            ("postgres://u:@[::1]:6543/d", "u", "", "::1", 6543, "d"),
            ("postgres://a%20b@h:1/d", "a b", nil, "h", 1, "d"),
        ] as [(String, String, String?, String, Int, String)]
    )
    func databaseURLsParse(
        _ text: String,
        _ user: String,
        _ password: String?,
        _ host: String,
        _ port: Int,
        _ database: String
    ) throws {
        let location = try PostgresLocation.parse(text)
        #expect(
            location == PostgresLocation(user: user, password: password, host: host, port: port, database: database)
        )
        if let password, !password.isEmpty { #expect(!location.description.contains(password)) }
    }

    @Test(arguments: [
        ("postgres://127.0.0.1/chat", "no user name"),
        ("postgres://u@h", "no database name"),
        ("postgres://u@h:99999/d", "not a number from 1 to 65535"),
        ("postgres://u@h/d?sslmode=require", "query parameters are not supported"),
        ("postgres://u%zz@h/d", "bad percent-encoding"),
        ("postgres://u@/d", "no host"),
    ])
    func badDatabaseURLsSayWhy(_ text: String, _ reason: String) {
        #expect {
            try PostgresLocation.parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func aPasswordNeverShowsInAnError() {
        #expect {
            try PostgresLocation.parse("postgres://u:hunter2@h:0/d")
        } throws: { error in
            !"\(error)".contains("hunter2") && "\(error)".contains("u:***@h:0/d")
        }
    }

    @Test(arguments: [
        ClusterNotice.message(room: "ops", lastSeq: 42, node: 3),
        .join(room: "lobby", node: 1, user: ChatUser(id: "u-1", name: "alice smith")),
        .leave(room: "lobby", node: 2, user: ChatUser(id: "u-2", name: "bob")),
        .nick(room: "a.b-c", node: 7, user: ChatUser(id: "u-3", name: "carol"), previousName: "carol-2"),
    ])
    func noticesSurviveTheirPayload(_ notice: ClusterNotice) {
        #expect(ClusterNotice(payload: notice.payload) == notice)
        #expect(notice.payload.utf8.count < 8000)
    }

    @Test(arguments: ["", "m\n1\nx\nroom", "q\n1\nroom\nu\nn", "j\nnot-a-node\nroom\nu\nn", "m\n1\n2"])
    func unknownNoticesAreIgnored(_ payload: String) {
        #expect(ClusterNotice(payload: payload) == nil)
    }

    @Test func aRoomTakesCommittedMessagesInSeqOrderOnly() {
        var room = Room(name: "lobby", historyLimit: 10)
        room.restore(lastSeq: 4, messages: [])
        let message = { (seq: UInt64) in
            ChatMessage(
                room: "lobby",
                seq: seq,
                id: MessageID("m\(seq)"),
                from: "a",
                uid: "u",
                text: "\(seq)",
                ts: Timestamp(millisecondsSince1970: 1_764_000_000_123)
            )
        }
        #expect(room.deliver(message(6)) == nil, "a gap is not filled by skipping")
        #expect(room.deliver(message(5))?.message.seq == 5)
        #expect(room.deliver(message(5)) == nil, "a message it has is not delivered twice")
        #expect(room.deliver(message(6))?.message.seq == 6)
        #expect(room.confirmedSeq == 6 && room.lastSeq == 6 && room.historyCount == 2)
    }

    @Test func membersOfOtherNodesKeepTheNamesTheClusterGave() {
        var room = Room(name: "lobby", historyLimit: 0)
        room.admit(ChatUser(id: "u-1", name: "alice"))
        room.admit(ChatUser(id: "u-1", name: "alice"))
        #expect(room.members.map(\.name) == ["alice"])
        // A local join after it still avoids the name.
        #expect(room.join(id: "u-2", requestedName: "Alice").name == "Alice-2")
        #expect(room.rename(id: "u-1", toExactly: "al") == "alice")
        #expect(room.rename(id: "u-1", toExactly: "al") == nil)
        #expect(room.join(id: "u-3", requestedName: "alice").name == "alice")
    }

    @Test func aClientMovesThroughItsServersInTurn() throws {
        let servers = try ChatURL.list(parsing: "ws://a:1/ws/ops, ws://b:2/ws/ops,ws://c:3/ws/ops")
        #expect(servers.map(\.authority) == ["a:1", "b:2", "c:3"])
        var configuration = ClientConfiguration(url: servers[0])
        configuration.servers = servers
        var seen: [String] = []
        for _ in 0..<4 {
            seen.append(configuration.url.authority)
            configuration.moveToNextServer()
        }
        #expect(seen == ["a:1", "b:2", "c:3", "a:1"])
        #expect(throws: ChatClientError.self) { try ChatURL.list(parsing: "ws://a:1/ws,,ws://b:2/ws") }
    }

    @Test(.timeLimit(.minutes(1))) func aCallThatNeverAnswersIsGivenUp() async {
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(20)) {
                // What postgres-nio does with a query written to a closed channel: never answer.
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func aCallThatAnswersInTimeGivesItsValue() async throws {
        #expect(try await withDeadline(.seconds(60)) { 42 } == 42)
    }
}
