import ChatTestSupport
import Foundation
import Testing

/// `serve --log-format json`: one object per line for log shippers, and no message text at info.
@Suite(.timeLimit(.minutes(1)))
struct LogTests {
    @Test func jsonLogsAreOneObjectPerLineWithConnectionFacts() async throws {
        let serve = try await ServeProcess.start(["--log-format", "json", "--log-level", "info"])
        let send = try ChatProcess(["send", serve.url, "--name", "bot", "the secret plan"])
        #expect(await send.exitCode() == 0)
        #expect(await serve.stop() == 0)
        let lines = await ChatProcess.collect(serve.process.stderr)
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
        }
        #expect(objects.allSatisfy { $0["ts"] != nil && $0["level"] != nil && $0["message"] != nil })
        #expect(
            objects.contains {
                $0["message"] == "open in a browser" && $0["chat.url"] == "http://127.0.0.1:\(serve.port)/"
            }
        )
        let opened = try #require(objects.first { $0["message"] == "connection opened" })
        #expect(opened["chat.room"] == "lobby")
        #expect(opened["chat.user"] == "bot")
        #expect(opened["chat.peer"] != nil)
        let closed = try #require(objects.first { $0["message"] == "connection closed" })
        #expect(closed["chat.close_code"] == "1000")
        #expect(closed["chat.duration"] != nil)
        #expect(!lines.contains { $0.contains("the secret plan") })
    }
}
