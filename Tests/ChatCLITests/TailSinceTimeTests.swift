import ChatClient
import ChatProtocol
import ChatTestSupport
import Foundation
import Testing

/// `tail --since-time`, through the built binary: what was said from a time on, from memory, from a
/// SQLite store and from the cluster's PostgreSQL, then the live room. Each tail gives up after 30 s
/// (exit 124) rather than wait for a message that does not come.
@Suite(.timeLimit(.minutes(2)))
struct TailSinceTimeTests {
    /// The texts of `chat tail --json` lines.
    static func texts(_ tail: ChatProcess) async throws -> [String] {
        try ClusterTests.messages(await ChatProcess.collect(tail.stdout)).map(\.text)
    }

    /// `printf LINES | chat send URL --name bot`, expected to succeed.
    static func send(_ lines: [String], to url: String) async throws {
        let text = lines.joined(separator: "\\n")
        let send = try ChatProcess([], shell: "printf '\(text)\\n' | \"$CHAT\" send \(url) --name bot")
        #expect(await send.exitCode() == 0)
    }

    /// The RFC 3339 time `minutes` ago.
    static func ago(minutes: Int64) -> String {
        Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 - minutes * 60_000).rfc3339
    }

    /// Backdates messages a, b, c and d to 180, 90, 30 and 10 minutes ago.
    static let backdating = [("a", 180), ("b", 90), ("c", 30), ("d", 10)].map { text, minutes in
        "UPDATE {table} SET ts = '\(Self.ago(minutes: Int64(minutes)))' WHERE {text} = '\(text)';"
    }.joined(separator: " ")

    @Test func aSpanReplaysTheRecentMessagesThenFollowsTheLiveRoom() async throws {
        let serve = try await ServeProcess.start()
        try await Self.send(["a", "b"], to: serve.url)
        let tail = try ChatProcess([
            "tail", "--timeout", "30", serve.url, "--json", "--since-time", "1h", "--count", "3", "--name", "t",
        ])
        try await waitForMember("t", url: serve.url)
        try await Self.send(["c"], to: serve.url)
        #expect(await tail.exitCode() == 0)
        #expect(try await Self.texts(tail) == ["a", "b", "c"])
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)

        // From a time after everything, only what comes next.
        let future = Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 + 60_000).rfc3339
        let later = try ChatProcess([
            "tail", "--timeout", "30", serve.url, "--json", "--since-time", future, "--count", "1", "--name", "u",
        ])
        try await waitForMember("u", url: serve.url)
        try await Self.send(["d"], to: serve.url)
        #expect(await later.exitCode() == 0)
        #expect(try await Self.texts(later) == ["d"])
        #expect(await serve.stop() == 0)
    }

    @Test func whatTheHistoryNoLongerHasIsReportedAndStrictExits3() async throws {
        let serve = try await ServeProcess.start(["--history", "2"])
        try await Self.send(["a", "b", "c"], to: serve.url)
        let tail = try ChatProcess([
            "tail", "--timeout", "30", serve.url, "--json", "--since-time", "1h", "--count", "2",
        ])
        #expect(await tail.exitCode() == 0)
        #expect(try await Self.texts(tail) == ["b", "c"])
        let warning = await ChatProcess.collect(tail.stderr)
        #expect(warning.count == 1)
        #expect(warning.first?.hasPrefix("chat: warning: the server no longer has every message since ") == true)
        #expect(warning.first?.hasSuffix(": replaying from seq 2 on") == true)

        let strict = try ChatProcess(["tail", "--timeout", "30", serve.url, "--since-time", "1h", "--strict"])
        #expect(await strict.exitCode() == 3)
        #expect(await ChatProcess.collect(strict.stdout).isEmpty)
        #expect(await serve.stop() == 0)
    }

    @Test func aSQLiteStoreAnswersForWhatTheHistoryDropped() async throws {
        try await withTemporaryDirectory { directory in
            let store = directory.appendingPathComponent("chat.db").path
            var serve = try await ServeProcess.start(["--store", store])
            try await Self.send(["a", "b", "c", "d"], to: serve.url)
            #expect(await serve.stop() == 0)
            let sql = Self.backdating.replacingOccurrences(of: "{table}", with: "messages")
                .replacingOccurrences(of: "{text}", with: "text")
            let backdate = try ChatProcess(
                [],
                shell:
                    "python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2])' "
                    + "'\(store)' \"\(sql)\""
            )
            #expect(await backdate.exitCode() == 0)

            // The history keeps d alone: from two hours ago, b and c come from the store.
            serve = try await ServeProcess.start(["--store", store, "--history", "1"])
            let tail = try ChatProcess([
                "tail", "--timeout", "30", serve.url, "--json", "--since-time", "2h", "--count", "4", "--name", "t",
            ])
            try await waitForMember("t", url: serve.url)
            try await Self.send(["e"], to: serve.url)
            #expect(await tail.exitCode() == 0)
            #expect(try await Self.texts(tail) == ["b", "c", "d", "e"])
            #expect(await ChatProcess.collect(tail.stderr).isEmpty)
            // From 20 minutes ago: d (from the store again: e pushed it out of the history) and e.
            let recent = try ChatProcess([
                "tail", "--timeout", "30", serve.url, "--json", "--since-time", "20m", "--count", "2",
            ])
            #expect(await recent.exitCode() == 0)
            #expect(try await Self.texts(recent) == ["d", "e"])
            // An RFC 3339 time with an offset, four hours ago: everything.
            let fourHoursAgo = Self.ago(minutes: 240).replacingOccurrences(of: "Z", with: "+00:00")
            let everything = try ChatProcess([
                "tail", "--timeout", "30", serve.url, "--json", "--since-time", fourHoursAgo, "--count", "5",
            ])
            #expect(await everything.exitCode() == 0)
            #expect(try await Self.texts(everything) == ["a", "b", "c", "d", "e"])
            #expect(await serve.stop() == 0)
        }
    }

    @Test func aNodeLooksTheTimeUpInPostgreSQL() async throws {
        let postgres = try TestPostgres.shared()
        let (database, nodes) = try await ClusterTests.nodes(2, ["--history", "1"])
        try await Self.send(["a", "b", "c", "d"], to: nodes[0].url)
        let sql = Self.backdating.replacingOccurrences(of: "{table}", with: "chat_messages")
            .replacingOccurrences(of: "{text}", with: "body")
        _ = try postgres.query(sql, database: database)
        // The second node has not loaded the room yet: it reads it from the database, d in its history.
        let tail = try ChatProcess([
            "tail", "--timeout", "30", nodes[1].url, "--json", "--since-time", "2h", "--count", "3",
        ])
        #expect(await tail.exitCode() == 0)
        #expect(try await Self.texts(tail) == ["b", "c", "d"])
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)
        for node in nodes { #expect(await node.stop() == 0) }
    }
}
