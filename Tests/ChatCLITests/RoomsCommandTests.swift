import ChatClient
import ChatProtocol
import ChatTerminal
import ChatTestSupport
import Foundation
import Testing

@testable import chat

/// `GET /rooms` and `chat rooms`: what rooms there are, on one server and across a cluster.
@Suite(.timeLimit(.minutes(2)))
struct RoomsCommandTests {
    /// The rooms of `chat rooms --json`.
    static func listed(_ url: String, environment: [String: String] = [:]) async throws -> [RoomList.Room] {
        let rooms = try ChatProcess(["rooms", url, "--json"], environment: environment)
        #expect(await rooms.exitCode() == 0)
        return try await ChatProcess.collect(rooms.stdout).map {
            try JSONDecoder().decode(RoomList.Room.self, from: Data($0.utf8))
        }
    }

    @Test func theRoomsWithTheirMembersLastSeqAndLastMessage() async throws {
        let serve = try await ServeProcess.start()
        let ops = serve.url + "/ops"
        for (url, lines) in [(ops, "a\\nb\\nc"), (serve.url, "hello")] {
            let send = try ChatProcess([], shell: "printf '\(lines)\\n' | \"$CHAT\" send \(url) --name bot")
            #expect(await send.exitCode() == 0)
        }
        let before = Timestamp.now()
        try await ChatClient.withSession(
            ClientConfiguration(url: try ChatURL(parsing: ops), name: "watcher"),
            logger: quietLogger
        ) { _ in
            let rooms = try await Self.listed(serve.url)
            #expect(rooms.map(\.name) == ["lobby", "ops"])
            #expect(rooms.map(\.members) == [0, 1])
            #expect(rooms.map(\.lastSeq) == [1, 3])
            #expect(rooms.allSatisfy { $0.lastActivity.map { $0 <= before } ?? false })

            let table = try ChatProcess(["rooms", serve.url])
            #expect(await table.exitCode() == 0)
            let lines = await ChatProcess.collect(table.stdout)
            #expect(lines.count == 3)
            #expect(lines.first == "ROOM   MEMBERS  LAST SEQ  LAST MESSAGE")
            #expect(
                lines.dropFirst().map { String($0.prefix(24)) } == [
                    "lobby        0         1", "ops          1         3",
                ]
            )
        }
        // The same JSON over plain HTTP, for anyone with curl.
        let response = try await rawHTTPExchange(port: serve.port, request: "GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.contains("\r\nContent-Type: application/json\r\n"))
        let body = try #require(response.range(of: "\r\n\r\n").map { String(response[$0.upperBound...]) })
        #expect(try RoomList(json: body).rooms.map(\.name) == ["lobby", "ops"])
        #expect(await serve.stop() == 0)
    }

    @Test func theTokenRuleApplies() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("token").path
            try Data("s3cret\n".utf8).write(to: URL(fileURLWithPath: file))
            let serve = try await ServeProcess.start(["--token-file", file])
            let refused = try ChatProcess(["rooms", serve.url])
            #expect(await refused.exitCode() == 77)
            let port = serve.port
            #expect(
                await ChatProcess.collect(refused.stderr) == [
                    "chat: error: http://127.0.0.1:\(port)/rooms answered HTTP 401: a valid token is required; give it with --token-file FILE or CHAT_TOKEN"
                ]
            )
            #expect(try await Self.listed(serve.url, environment: ["CHAT_TOKEN": "s3cret"]).isEmpty)
            let bare = try await rawHTTPExchange(port: port, request: "GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(bare.hasPrefix("HTTP/1.1 401 "))
            #expect(await serve.stop() == 0)
        }
    }

    @Test func aClusterListsEveryNodesRoomsAndMembers() async throws {
        let (_, nodes) = try await ClusterTests.nodes(2)
        let send = try ChatProcess(["send", nodes[0].url + "/ops", "deploy done"])
        #expect(await send.exitCode() == 0)
        // A member on each node, one of them in a room nobody wrote in yet.
        try await ChatClient.withSession(
            ClientConfiguration(url: try ChatURL(parsing: nodes[0].url + "/ops"), name: "a"),
            logger: quietLogger
        ) { _ in
            try await ChatClient.withSession(
                ClientConfiguration(url: try ChatURL(parsing: nodes[1].url + "/quiet"), name: "b"),
                logger: quietLogger
            ) { _ in
                for node in nodes {
                    let rooms = try await Self.listed(node.url)
                    #expect(rooms.map(\.name) == ["ops", "quiet"])
                    #expect(rooms.map(\.members) == [1, 1])
                    #expect(rooms.map(\.lastSeq) == [1, 0])
                    #expect(rooms.map { $0.lastActivity == nil } == [false, true])
                }
            }
        }
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func theTableAlignsAndSaysWhenInLocalTime() {
        let now = Timestamp.now()
        let rooms = [
            RoomList.Room(name: "lobby", members: 12, lastSeq: 4096, lastActivity: now),
            RoomList.Room(name: "a-much-longer-room", members: 0, lastSeq: 0, lastActivity: nil),
        ]
        #expect(
            RoomTable.lines(rooms, now: now) == [
                "ROOM                MEMBERS  LAST SEQ  LAST MESSAGE",
                "lobby                    12      4096  \(now.localTimeOfDay)",
                "a-much-longer-room        0         0  -",
            ]
        )
        let lastWeek = Timestamp(millisecondsSince1970: now.millisecondsSince1970 - 7 * 86_400_000)
        #expect(RoomTable.when(lastWeek, now: now).wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d/) != nil)
    }
}

/// A server that takes the connection and never answers is given up on, in words.
@Suite(.timeLimit(.minutes(1)))
struct RoomListTimeoutTests {
    @Test func aServerThatNeverAnswersIsGivenUpOn() async throws {
        try await withSilentPort { port in
            var configuration = ClientConfiguration(url: try ChatURL(parsing: "ws://127.0.0.1:\(port)/ws"))
            configuration.connectTimeout = .milliseconds(200)
            let error = await #expect(throws: ChatClientError.self) { try await ChatHTTP.rooms(configuration) }
            #expect(error?.description == "connection lost: 127.0.0.1:\(port) did not answer GET /rooms within 0.2s")
        }
    }
}
