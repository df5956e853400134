import ChatClient
import ChatProtocol
import ChatTestSupport
import Foundation
import Testing

/// `chat join` without a terminal: what a script piping into it gets.
@Suite(.timeLimit(.minutes(2)))
struct JoinTests {
    @Test func pipedLinesAreSentCommandsWorkAndItExitsOnceAllIsAcknowledged() async throws {
        let serve = try await ServeProcess.start()
        let url = try ChatURL(parsing: serve.url)
        try await ChatClient.withSession(ClientConfiguration(url: url, name: "observer"), logger: quietLogger) {
            observer in
            let join = try ChatProcess(["join", serve.url, "--name", "bot"])
            try await observer.waitForJoin(of: "bot")
            // Said before the join sends anything: the server queues it to the join before any ack the
            // join waits for, so the join has printed it by the time it exits.
            try await observer.send(.message(id: "ping-1", text: "ping from observer"))
            for try await frame in observer.events {
                if case .message(let message) = frame, message.id == "ping-1" { break }
            }
            join.write("hello\n/nick robot\n/me waves\n//etc is a directory\n/bogus\nbye\n")
            join.closeInput()
            var texts: [String] = []
            var names: [String] = []
            for try await frame in observer.events {
                if case .message(let message) = frame, message.from != "observer" {
                    texts.append(message.text)
                    names.append(message.from)
                }
                if texts.count == 4 { break }
            }
            #expect(texts == ["hello", "/me waves", "/etc is a directory", "bye"])
            #expect(names == ["bot", "robot", "robot", "robot"])
            #expect(await join.exitCode() == 0)
            let printed = await ChatProcess.collect(join.stdout)
            #expect(printed.contains { $0.hasSuffix(" <observer> ping from observer") }, "\(printed)")
            let errors = await ChatProcess.collect(join.stderr)
            #expect(errors == ["chat: unknown command /bogus; /help lists them, //text sends text starting with /"])
        }
        #expect(await serve.stop() == 0)
    }

    @Test func anUnreachableServerWithNoReconnectIsOneLineAndExit69() async throws {
        try await withRefusingPort { port in
            let join = try ChatProcess(["join", "ws://127.0.0.1:\(port)/ws", "--no-reconnect"])
            join.closeInput()
            #expect(await join.exitCode() == 69)
            let errors = await ChatProcess.collect(join.stderr)
            #expect(errors == ["chat: error: cannot connect to 127.0.0.1:\(port): connection refused"])
        }
    }
}
