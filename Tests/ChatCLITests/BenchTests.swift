import ChatTestSupport
import Foundation
import Testing

/// `chat bench` against a real `chat serve`, through pipes, small enough to run with every test.
@Suite(.runsAlone(within: .seconds(120)), .timeLimit(.minutes(10)))
struct BenchTests {
    private func run(_ arguments: [String]) async throws -> (status: Int32, json: [String: Any], stderr: [String]) {
        let bench = try ChatProcess(["bench"] + arguments + ["--json"])
        let status = await bench.exitCode()
        let stdout = await ChatProcess.collect(bench.stdout)
        let stderr = await ChatProcess.collect(bench.stderr)
        let line = try #require(stdout.first, "no JSON on stdout; stderr: \(stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return (status, json, stderr)
    }

    @Test func aPacedRunDeliversEveryMessageToEveryMemberAndSamplesTheServer() async throws {
        let serve = try await ServeProcess.start(["--rate-limit", "0"])
        let (status, json, stderr) = try await self.run([
            serve.url, "--subscribers", "5", "--publishers", "2", "--rate", "200", "--duration", "1",
            "--server-pid", "\(serve.process.pid)",
        ])
        #expect(status == 0, "\(stderr)")
        #expect(stderr.isEmpty)
        #expect(json["connections"] as? Int == 7)
        let sent = try #require(json["messagesSent"] as? Int)
        #expect((150...250).contains(sent))
        // Every member of the room, publishers included, gets every message once.
        #expect(json["deliveriesExpected"] as? Int == sent * 7)
        #expect(json["deliveriesReceived"] as? Int == sent * 7)
        #expect(json["deliveriesLost"] as? Int == 0)
        let latency = try #require(json["latency"] as? [String: Double])
        #expect(latency["p50"]! > 0 && latency["p50"]! <= latency["p99"]! && latency["p99"]! <= latency["max"]!)
        let server = try #require(json["server"] as? [String: Any])
        #expect((server["rssBytes"] as? Int ?? 0) > 1 << 20)
        #expect(server["cpuMicrosecondsPerDelivery"] != nil)
    }

    @Test func aMaxRateRunKeepsItsWindowAndLosesNothing() async throws {
        let serve = try await ServeProcess.start(["--rate-limit", "0"])
        let (status, json, _) = try await self.run([
            serve.url, "--subscribers", "3", "--rate", "max", "--window", "16", "--duration", "0.5", "--rooms", "2",
        ])
        #expect(status == 0)
        #expect(json["rooms"] as? Int == 2)
        #expect((json["messagesSent"] as? Int ?? 0) > 16)
        #expect(json["deliveriesLost"] as? Int == 0)
        #expect(json["deliveriesReceived"] as? Int == json["deliveriesExpected"] as? Int)
    }

    @Test func connectionsOnlyHoldsIdleConnectionsThatAllAnswerPings() async throws {
        let serve = try await ServeProcess.start()
        let (status, json, _) = try await self.run([
            serve.url, "--connections-only", "50", "--server-pid", "\(serve.process.pid)",
        ])
        #expect(status == 0)
        #expect(json["connections"] as? Int == 50)
        #expect(json["live"] as? Int == 50)
        let server = try #require(json["server"] as? [String: Any])
        #expect(server["rssPerConnectionBytes"] is Double)
    }

    @Test func aTargetOffThisMachineIsRefusedWithoutConnecting() async throws {
        let bench = try ChatProcess(["bench", "ws://192.0.2.1:8000/ws", "--duration", "1"])
        #expect(await bench.exitCode() == 64)
        let stderr = await ChatProcess.collect(bench.stderr)
        #expect(
            stderr == [
                "chat: error: 192.0.2.1 is not this machine; bench only loads loopback targets unless --allow-remote"
            ]
        )
    }

    @Test func aServerThatIsNotThereIsOneLineAndExit69() async throws {
        let bench = try ChatProcess(["bench", "ws://127.0.0.1:1/ws", "--duration", "1"])
        #expect(await bench.exitCode() == 69)
        let stderr = await ChatProcess.collect(bench.stderr)
        #expect(stderr.count == 1)
        #expect(stderr.first?.hasPrefix("chat: error: only 0 of 101 connections could be opened") == true)
    }
}
