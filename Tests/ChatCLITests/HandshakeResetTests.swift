import ChatTestSupport
import Foundation
import Testing

/// A server (or a load balancer with no backend) that accepts TCP and hangs up before answering the
/// upgrade is a lost connection: `tail` and `join` retry it with backoff, `send` fails fast in one line.
@Suite(.runsAlone(within: .seconds(60)), .timeLimit(.minutes(10)))
struct HandshakeResetTests {
    /// Whether `line` says the connection ended before the `101`, in the words users read.
    private static func saysLost(_ line: String) -> Bool {
        line.contains(/the (connection was reset|server closed the connection) before the WebSocket handshake finished/)
    }

    @Test func tailKeepsRetryingAServerThatResetsEveryHandshake() async throws {
        let listener = try await HangUpListener.start(.reset)
        let tail = try ChatProcess(["tail", "ws://127.0.0.1:\(listener.port)/ws"])
        // The yardstick: 20 s of full-jitter backoff from 0.5 s (ceilings 0.5, 1, 2, 4, 8, 16 s)
        // is at least 5 attempts and, barring a freak run of near-zero delays, far fewer than 15.
        try await Task.sleep(for: .seconds(20))
        tail.signal(SIGTERM)
        _ = await tail.exitCode()
        await listener.stop()
        let errors = await ChatProcess.collect(tail.stderr)
        let attempts = errors.filter { $0.hasPrefix("chat: reconnecting in ") }
        #expect((3...15).contains(attempts.count), "\(errors)")
        for line in attempts {
            #expect(
                line.contains(
                    /\(attempt \d+\): cannot connect to 127\.0\.0\.1:\d+: the connection was reset before the WebSocket handshake finished$/
                ),
                "\(line)"
            )
        }
        #expect(!errors.contains { $0.contains("protocol") || $0.contains("errno") }, "\(errors)")
        // Every attempt reached the listener: the first connection and each retry.
        #expect(listener.acceptedCount >= attempts.count)
    }

    @Test(arguments: [HangUpListener.HangUp.reset, .close])
    func tailGivesUpOnlyAfterItsRetries(_ hangUp: HangUpListener.HangUp) async throws {
        let listener = try await HangUpListener.start(hangUp)
        let tail = try ChatProcess(["tail", "ws://127.0.0.1:\(listener.port)/ws", "--max-retries", "2"])
        #expect(await tail.exitCode() == 69)
        await listener.stop()
        let errors = await ChatProcess.collect(tail.stderr)
        #expect(errors.count == 3, "\(errors)")
        #expect(errors.prefix(2).allSatisfy { $0.hasPrefix("chat: reconnecting in ") && Self.saysLost($0) })
        #expect(errors.last?.hasPrefix("chat: error: cannot connect to 127.0.0.1:") == true)
        #expect(errors.last.map(Self.saysLost) == true)
    }

    @Test func joinWithoutATerminalRetriesToo() async throws {
        let listener = try await HangUpListener.start(.reset)
        let join = try ChatProcess(["join", "ws://127.0.0.1:\(listener.port)/ws", "--max-retries", "2"])
        join.write("hello\n")
        join.closeInput()
        #expect(await join.exitCode() != 0)
        await listener.stop()
        let errors = await ChatProcess.collect(join.stderr)
        #expect(errors.filter { $0.hasPrefix("chat: reconnecting in ") && Self.saysLost($0) }.count == 2, "\(errors)")
        #expect(listener.acceptedCount == 3)
    }

    @Test func sendFailsFastWithOneReadableLine() async throws {
        let listener = try await HangUpListener.start(.reset)
        let send = try ChatProcess(["send", "ws://127.0.0.1:\(listener.port)/ws", "hello"])
        #expect(await send.exitCode() == 69)
        await listener.stop()
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.wholeMatch(of: /chat: error: cannot connect to 127\.0\.0\.1:\d+: .*/) != nil)
        #expect(errors.first.map(Self.saysLost) == true)
        #expect(listener.acceptedCount == 1)
    }
}
