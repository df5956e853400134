import ChatTestSupport
import Foundation
import Testing

/// Token auth through the binaries: files and variables, never arguments; refusals are final.
@Suite(.timeLimit(.minutes(2)))
struct TokenTests {
    @Test func aServerWithATokenLetsInOnlyClientsThatHaveIt() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("token").path
            try Data("s3cret-token\n".utf8).write(to: URL(fileURLWithPath: file))

            let serve = try await ServeProcess.start(["--token-file", file, "--log-level", "trace"])
            let good = try ChatProcess(["send", serve.url, "hello"], environment: ["CHAT_TOKEN": "s3cret-token"])
            #expect(await good.exitCode() == 0)
            let fromFile = try ChatProcess(["send", serve.url, "--token-file", file, "hello again"])
            #expect(await fromFile.exitCode() == 0)

            // A wrong token is final: one line, exit 77, and no retry loop even for tail.
            for command in [["send", serve.url, "x"], ["tail", serve.url]] {
                let refused = try ChatProcess(command, environment: ["CHAT_TOKEN": "guess"])
                #expect(await refused.exitCode() == 77)
                let errors = await ChatProcess.collect(refused.stderr)
                #expect(
                    errors == [
                        "chat: error: \(serve.url) refused the WebSocket upgrade with HTTP 401: a valid token is required; give it with --token-file FILE or CHAT_TOKEN"
                    ]
                )
            }
            let unreadable = try ChatProcess(["send", serve.url, "--token-file", directory.path + "/none", "x"])
            #expect(await unreadable.exitCode() == 64)

            #expect(await serve.stop() == 0)
            // Even at trace level the server never logs the token.
            let logs = await ChatProcess.collect(serve.process.stderr)
            #expect(!logs.isEmpty)
            #expect(!logs.contains { $0.contains("s3cret") })
        }
    }
}
