import ChatClient
import ChatProtocol
import ChatTestSupport
import Foundation
import Testing

/// The built `chat` binary through real pipes, as a script would run it.
@Suite(.timeLimit(.minutes(2)))
struct BinaryTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func servePrintsOneListeningLineAndExitsZeroOnSignal(_ signal: Int32) async throws {
        let serve = try await ServeProcess.start()
        #expect(serve.listeningLine.wholeMatch(of: /listening on ws:\/\/127\.0\.0\.1:\d+\/ws/) != nil)
        serve.process.signal(signal)
        #expect(await serve.process.exitCode() == 0)
        #expect(await ChatProcess.collect(serve.process.stdout).isEmpty)
        // Where to point a browser, on stderr.
        #expect(
            await ChatProcess.collect(serve.process.stderr).first
                == "chat: open http://127.0.0.1:\(serve.port)/ in a browser"
        )
    }

    /// `0.2.0 (abc1234)`: the version (ChatVersion, the one place it is written) and the commit built from,
    /// which is the clone's own — with `+` when its sources differ from it.
    @Test func versionSaysTheCommitItWasBuiltFrom() async throws {
        let version = try ChatProcess(["--version"])
        #expect(await version.exitCode() == 0)
        let line = try #require(await ChatProcess.collect(version.stdout).first)
        let match = try #require(line.wholeMatch(of: /(\d+\.\d+\.\d+) \(([0-9a-f]{7}\+?|unknown)\)/))
        #expect(String(match.1) == ChatVersion.current)
        let head = try ChatProcess([], shell: "git rev-parse --short=7 HEAD 2>/dev/null || echo unknown")
        _ = await head.exitCode()
        let commit = await ChatProcess.collect(head.stdout).first ?? "unknown"
        #expect(String(match.2).hasPrefix(commit))
    }

    @Test func sentLinesArriveInOrderWithEveryField() async throws {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess([], shell: "printf 'a\\nb\\n' | \"$CHAT\" send \(serve.url) --name bot")
        #expect(await send.exitCode() == 0)
        #expect(await ChatProcess.collect(send.stdout).isEmpty)
        #expect(await ChatProcess.collect(send.stderr).isEmpty)

        let tail = try ChatProcess(["tail", serve.url, "--json", "-n", "2", "--count", "2"])
        #expect(await tail.exitCode() == 0)
        let lines = await ChatProcess.collect(tail.stdout)
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)
        let messages = try lines.map { try JSONDecoder().decode(ChatMessage.self, from: Data($0.utf8)) }
        #expect(messages.map(\.text) == ["a", "b"])
        #expect(messages.map(\.seq) == [1, 2])
        #expect(
            messages.allSatisfy {
                $0.from == "bot" && $0.room == "lobby" && !$0.id.rawValue.isEmpty && !$0.uid.rawValue.isEmpty
            }
        )
        // `ts` decoded as RFC 3339, and it is the server's clock of a moment ago.
        let now = Timestamp.now().millisecondsSince1970
        #expect(messages.allSatisfy { (now - 60_000...now).contains($0.ts.millisecondsSince1970) })
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["type", "room", "seq", "id", "from", "uid", "text", "ts"])
        }
        #expect(await serve.stop() == 0)
    }

    @Test func aLiveTailPrintsTextLinesAsTheyAreSent() async throws {
        let serve = try await ServeProcess.start()
        let url = try ChatURL(parsing: serve.url)
        try await ChatClient.withSession(ClientConfiguration(url: url, name: "observer"), logger: quietLogger) {
            observer in
            let tail = try ChatProcess(["tail", serve.url, "--count", "2", "--name", "tailer"])
            try await observer.waitForJoin(of: "tailer")
            let send = try ChatProcess(["send", serve.url, "--name", "bot", "build", "41", "passed"])
            #expect(await send.exitCode() == 0)
            let second = try ChatProcess(["send", serve.url, "--name", "bot", "two\nlines \u{1b}[31m"])
            #expect(await second.exitCode() == 0)
            #expect(await tail.exitCode() == 0)
            let lines = await ChatProcess.collect(tail.stdout)
            #expect(lines.count == 2)
            #expect(lines.first?.wholeMatch(of: /\d\d:\d\d:\d\d <bot> build 41 passed/) != nil)
            #expect(lines.last?.wholeMatch(of: /\d\d:\d\d:\d\d <bot> two\\nlines \\x1b\[31m/) != nil)
        }
        #expect(await serve.stop() == 0)
    }

    @Test func tailEndsWhenItsReaderGoesAwayEvenInAQuietRoom() async throws {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess(["send", serve.url, "hello"])
        #expect(await send.exitCode() == 0)
        let pipeline = try ChatProcess(
            [],
            shell: "\"$CHAT\" tail \(serve.url) -n 1 | head -n 1; echo \"tail exited $?\""
        )
        #expect(await pipeline.exitCode() == 0)
        let lines = await ChatProcess.collect(pipeline.stdout)
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix("hello") == true)
        #expect(lines.last == "tail exited 0")
        #expect(await serve.stop() == 0)
    }

    @Test func sendToAClosedPortFailsAtOnceWithOneLine() async throws {
        try await withRefusingPort { port in
            let send = try ChatProcess(["send", "ws://127.0.0.1:\(port)/ws", "hi"])
            #expect(await send.exitCode() == 69)
            let errors = await ChatProcess.collect(send.stderr)
            #expect(errors.count == 1)
            #expect(errors.first == "chat: error: cannot connect to 127.0.0.1:\(port): connection refused")
        }
    }

    @Test func aRefusedUpgradeIsOneLineAndExit69() async throws {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess(["send", serve.url, "--name", "\u{1}bad", "hi"])
        #expect(await send.exitCode() == 69)
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("refused the WebSocket upgrade with HTTP 400: invalid name") == true)
        #expect(await serve.stop() == 0)
    }

    @Test func aMessageOverTheServersLimitExits65AndSaysWhatWasDelivered() async throws {
        let serve = try await ServeProcess.start(["--max-message-bytes", "10"])
        let send = try ChatProcess([], shell: "printf 'short\\nthis line is too long\\n' | \"$CHAT\" send \(serve.url)")
        #expect(await send.exitCode() == 65)
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors == ["chat: error: message 2 is 21 bytes, over the server's limit of 10; 1 message delivered"])
        #expect(await serve.stop() == 0)
    }

    @Test(arguments: [
        (["send", "http://127.0.0.1:1/ws", "hi"], "chat: error: invalid URL"),
        (["tail", "ws://127.0.0.1:8000/other"], "chat: error: invalid URL"),
        (["tail", "--count", "0"], "Error: --count must be 1 or more."),
        (["send", "--room", "bad room", "hi"], "chat: error: invalid URL"),
    ])
    func usageErrorsExit64(_ arguments: [String], _ prefix: String) async throws {
        let process = try ChatProcess(arguments)
        #expect(await process.exitCode() == 64)
        let errors = await ChatProcess.collect(process.stderr)
        #expect(errors.first?.hasPrefix(prefix) == true, "\(errors)")
    }

    @Test func aTailLearnsThatTheServerWentAway() async throws {
        let serve = try await ServeProcess.start()
        let url = try ChatURL(parsing: serve.url)
        try await ChatClient.withSession(ClientConfiguration(url: url, name: "observer"), logger: quietLogger) {
            observer in
            let tail = try ChatProcess(["tail", serve.url, "--name", "tailer", "--no-reconnect"])
            try await observer.waitForJoin(of: "tailer")
            #expect(await serve.stop() == 0)
            #expect(await tail.exitCode() == 1)
            let errors = await ChatProcess.collect(tail.stderr)
            #expect(errors == ["chat: error: the server closed the connection: 1001 going away (server shutting down)"])
        }
    }

    @Test func aResumeTheServerCannotFillIsReportedOnStderr() async throws {
        let serve = try await ServeProcess.start(["--history", "2"])
        let send = try ChatProcess([], shell: "seq 1 5 | \"$CHAT\" send \(serve.url)")
        #expect(await send.exitCode() == 0)
        let tail = try ChatProcess(["tail", serve.url, "--since", "1", "-n", "2", "--count", "2"])
        #expect(await tail.exitCode() == 0)
        let lines = await ChatProcess.collect(tail.stdout)
        #expect(lines.map { $0.split(separator: " ").last.map(String.init) } == ["4", "5"])
        let errors = await ChatProcess.collect(tail.stderr)
        #expect(
            errors == [
                "chat: warning: cannot resume after seq 1: the server's history starts at seq 4; messages before it are missing"
            ]
        )
        #expect(await serve.stop() == 0)
    }

    @Test func sinceResumesExactlyAfterTheGivenSeq() async throws {
        let serve = try await ServeProcess.start()
        let send = try ChatProcess([], shell: "seq 1 5 | \"$CHAT\" send \(serve.url)")
        #expect(await send.exitCode() == 0)
        let tail = try ChatProcess(["tail", serve.url, "--since", "3", "--count", "2"])
        #expect(await tail.exitCode() == 0)
        let lines = await ChatProcess.collect(tail.stdout)
        #expect(lines.map { $0.split(separator: " ").last.map(String.init) } == ["4", "5"])
        #expect(await ChatProcess.collect(tail.stderr).isEmpty)
        #expect(await serve.stop() == 0)
    }
}

/// Reconnecting: servers that go away and come back on the same port.
@Suite(.runsAlone(within: .seconds(120)), .timeLimit(.minutes(10)))
struct ReconnectTests {
    @Test func tailWaitsForItsServerAndWarnsAboutWhatARestartLost() async throws {
        var serve = try await ServeProcess.start()
        let url = serve.url
        let port = serve.port
        let first = try ChatProcess(["send", url, "before the restart"])
        #expect(await first.exitCode() == 0)
        let tail = try ChatProcess(["tail", url, "-n", "1", "--count", "2", "--name", "tailer"])
        var lines = tail.stdout.makeAsyncIterator()
        #expect(await lines.next()?.hasSuffix("before the restart") == true)

        #expect(await serve.stop() == 0)
        serve = try await ServeProcess.start(port: port)
        let restarted = try ChatURL(parsing: url)
        try await ChatClient.withSession(ClientConfiguration(url: restarted, name: "observer"), logger: quietLogger) {
            observer in
            try await observer.waitForMember("tailer")
            let second = try ChatProcess(["send", url, "after the restart"])
            #expect(await second.exitCode() == 0)
        }
        #expect(await lines.next()?.hasSuffix("after the restart") == true)
        #expect(await tail.exitCode() == 0)
        let errors = await ChatProcess.collect(tail.stderr)
        #expect(errors.contains { $0.hasPrefix("chat: reconnecting in ") && $0.contains("(attempt 1): ") })
        #expect(
            errors.last
                == "chat: warning: the server restarted and lost its history: messages after seq 1 may be missing"
        )
        #expect(await serve.stop() == 0)
    }

    @Test func tailWithoutAServerBacksOffAndGivesUpAfterMaxRetries() async throws {
        try await withRefusingPort { port in
            let tail = try ChatProcess(["tail", "ws://127.0.0.1:\(port)/ws", "--max-retries", "3"])
            #expect(await tail.exitCode() == 69)
            let errors = await ChatProcess.collect(tail.stderr)
            #expect(errors.count == 4, "\(errors)")
            for (index, line) in errors.prefix(3).enumerated() {
                // Each attempt is reported with a delay no longer than its backoff ceiling (0.5 s, 1 s, 2 s).
                let match = try #require(
                    line.wholeMatch(
                        of:
                            /chat: reconnecting in ([0-9.]+)s \(attempt (\d)\): cannot connect to .*: connection refused/
                    )
                )
                #expect(Int(match.2) == index + 1)
                #expect(try #require(Double(match.1)) <= [0.5, 1, 2][index])
            }
            #expect(errors.last?.hasPrefix("chat: error: cannot connect to ") == true)
        }
    }

    @Test func tailWithStrictExits3OnAGap() async throws {
        let serve = try await ServeProcess.start(["--history", "1"])
        let send = try ChatProcess([], shell: "seq 1 3 | \"$CHAT\" send \(serve.url)")
        #expect(await send.exitCode() == 0)
        let tail = try ChatProcess(["tail", serve.url, "--since", "1", "--strict"])
        #expect(await tail.exitCode() == 3)
        #expect(
            await ChatProcess.collect(tail.stderr).first?.hasPrefix("chat: error: cannot resume after seq 1") == true
        )
        #expect(await serve.stop() == 0)
    }

    @Test func sendCarriesOnAcrossARestart() async throws {
        var serve = try await ServeProcess.start()
        let url = serve.url
        let port = serve.port
        let parsed = try ChatURL(parsing: url)
        let send = try ChatProcess(["send", url, "--name", "bot"])
        try await ChatClient.withSession(ClientConfiguration(url: parsed, name: "observer"), logger: quietLogger) {
            observer in
            send.write("one\n")
            let received = try await observer.nextMessage()
            #expect(received?.text == "one")
        }
        #expect(await serve.stop() == 0)
        serve = try await ServeProcess.start(port: port)
        try await ChatClient.withSession(ClientConfiguration(url: parsed, name: "observer"), logger: quietLogger) {
            observer in
            send.write("two\n")
            send.closeInput()
            let received = try await observer.nextMessage()
            #expect(received?.text == "two")
        }
        #expect(await send.exitCode() == 0)
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors.allSatisfy { $0.hasPrefix("chat: reconnecting in ") }, "\(errors)")
        #expect(!errors.isEmpty)
        #expect(await serve.stop() == 0)
    }

    @Test func sendGivesUpAfterItsTimeoutWithExit75() async throws {
        let serve = try await ServeProcess.start()
        // stdin stays open and empty: nothing can complete, so only the timeout ends the run.
        let send = try ChatProcess(["send", serve.url, "--timeout", "0.5"])
        #expect(await send.exitCode() == 75)
        #expect(await ChatProcess.collect(send.stderr) == ["chat: error: timed out after 0.5s; 0 messages delivered"])
        #expect(await serve.stop() == 0)
    }

    @Test func sendWithNoReconnectFailsWhenTheServerGoesAway() async throws {
        let serve = try await ServeProcess.start()
        let parsed = try ChatURL(parsing: serve.url)
        let send = try ChatProcess(["send", serve.url, "--no-reconnect", "--name", "bot"])
        try await ChatClient.withSession(ClientConfiguration(url: parsed, name: "observer"), logger: quietLogger) {
            observer in
            send.write("one\n")
            let received = try await observer.nextMessage()
            #expect(received?.text == "one")
        }
        #expect(await serve.stop() == 0)
        #expect(await send.exitCode() == 1)
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors.count == 1)
        #expect(errors.first?.hasSuffix("; 1 message delivered") == true, "\(errors)")
    }

    @Test func aTailKilledAndRestartedWithItsStateFileMissesNothing() async throws {
        let serve = try await ServeProcess.start()
        try await withTemporaryDirectory { directory in
            let state = directory.appendingPathComponent("tail.state").path

            // Kill -9 in the middle of a stream: the state file must hold a whole state, and a restarted
            // tail must print exactly what came after it.
            let first = try ChatProcess(["tail", serve.url, "--json", "--state-file", state])
            let send = try ChatProcess([], shell: "seq 1 100 | \"$CHAT\" send \(serve.url)")
            var lines = first.stdout.makeAsyncIterator()
            var printed = 0
            while printed < 50, await lines.next() != nil { printed += 1 }
            first.signal(SIGKILL)
            _ = await first.exitCode()
            #expect(await send.exitCode() == 0)
            let stopped = try JSONDecoder().decode(
                TailState.self,
                from: try #require(FileManager.default.contents(atPath: state))
            )
            #expect((49...100).contains(stopped.seq))
            // The second half is said while no tail runs (the first may have taken in all of the first half).
            let more = try ChatProcess([], shell: "seq 101 200 | \"$CHAT\" send \(serve.url)")
            #expect(await more.exitCode() == 0)

            let second = try ChatProcess([
                "tail", serve.url, "--json", "--state-file", state, "--count", "\(200 - stopped.seq)",
            ])
            #expect(await second.exitCode() == 0)
            let texts = try await ChatProcess.collect(second.stdout).map {
                try JSONDecoder().decode(ChatMessage.self, from: Data($0.utf8)).text
            }
            #expect(texts == ((Int(stopped.seq) + 1)...200).map(String.init))
            let saved = try #require(FileManager.default.contents(atPath: state))
            let object = try #require(try JSONSerialization.jsonObject(with: saved) as? [String: Any])
            #expect(object["room"] as? String == "lobby")
            #expect(object["seq"] as? Int == 200)
            let mode = try FileManager.default.attributesOfItem(atPath: state)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(await serve.stop() == 0)
        }
    }
}

/// `send --expect`: a request/response step in a script.
@Suite(.timeLimit(.minutes(2)))
struct ExpectTests {
    @Test func sendPrintsTheFirstReplyMatchingThePattern() async throws {
        let serve = try await ServeProcess.start()
        let url = try ChatURL(parsing: serve.url)
        try await ChatClient.withSession(ClientConfiguration(url: url, name: "responder"), logger: quietLogger) {
            responder in
            let ask = try ChatProcess(["send", serve.url, "--name", "asker", "ping 42", "--expect", "^pong", "--json"])
            let request = try await responder.nextMessage()
            #expect(request?.text == "ping 42")
            // A message that does not match comes first, then the reply.
            try await responder.send(.message(id: nil, text: "unrelated"))
            try await responder.send(.message(id: nil, text: "pong 42"))
            #expect(await ask.exitCode() == 0)
            let lines = await ChatProcess.collect(ask.stdout)
            #expect(lines.count == 1)
            let reply = try JSONDecoder().decode(ChatMessage.self, from: Data((lines.first ?? "").utf8))
            #expect(reply.text == "pong 42")
            #expect(reply.from == "responder")
        }
        #expect(await serve.stop() == 0)
    }

    @Test func noReplyWithinTheTimeoutExits75() async throws {
        let serve = try await ServeProcess.start()
        let ask = try ChatProcess(["send", serve.url, "ping", "--expect", "pong", "--timeout", "2"])
        #expect(await ask.exitCode() == 75)
        #expect(
            await ChatProcess.collect(ask.stderr)
                == ["chat: error: timed out waiting for a message matching 'pong'; 1 message delivered"]
        )
        #expect(await serve.stop() == 0)
    }
}

/// The state file's shape, as a script would read it.
struct TailState: Decodable {
    var room: String
    var epoch: String
    var seq: UInt64
}
