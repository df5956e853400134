import ArgumentParser
import ChatBench
import ChatClient
import ChatProtocol
import Foundation

/// `chat bench`: a load generator for chat servers (and any server that broadcasts text frames).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a server: fan-out throughput, latency, CPU and memory.",
        discussion: """
            Opens --subscribers receive-only connections and --publishers sending ones (round-robin over \
            --rooms rooms), publishes for --duration seconds, waits for every delivery, and reports \
            deliveries expected/received, delivered msgs/s and latency percentiles. With --server-pid it \
            also reads the server's CPU time and memory from /proc. Each message's text carries a marker with \
            its send time, so any server that broadcasts text frames (wrapped in JSON or not) can be measured.

            --connections-only N opens N idle connections instead, holds them, checks each answers a ping and \
            reports the server's memory per connection.

            Targets must be on this machine (127.0.0.0/8, ::1, localhost) unless --allow-remote is given.

            Exit codes: 0 every delivery arrived (every connection live); 1 deliveries were lost or \
            connections closed; 64 usage; 69 the connections could not be opened.
            """
    )

    @Argument(help: "The server's ws:// URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).")
    var url: String?

    /// Where the defaults come from: the plan's own, which argument-parser prints.
    private static let defaults = BenchPlan(host: "127.0.0.1", port: 8000, path: "/ws")

    @Option(help: "Receive-only connections.")
    var subscribers = Self.defaults.subscribers

    @Option(help: "Sending connections (they receive everything too).")
    var publishers = Self.defaults.publishers

    @Option(help: "Messages a second in total over all publishers, or 'max' to send as fast as the server takes them.")
    var rate = "max"

    @Option(help: "With --rate max: messages each publisher keeps in flight.")
    var window = BenchPlan.defaultWindow

    @Option(help: "Bytes of text per message (at least 22, the marker).")
    var size = Self.defaults.size

    @Option(help: "Seconds to publish.")
    var duration = Self.defaults.duration

    @Option(help: "Rooms to spread the connections over (/ws/ROOM-0, -1, …; /ws/bench-0, … for /ws).")
    var rooms = Self.defaults.rooms

    @Option(
        help: ArgumentHelp(
            "Connect the publishers to this server instead (another node of the same cluster, with the same path), so every message crosses from one node to the other.",
            valueName: "url"
        )
    )
    var publishURL: String?

    @Option(name: .customLong("server-pid"), help: "The server's process id: report its CPU time and memory.")
    var serverPID: Int32?

    @Option(help: "Only open this many idle connections and report the server's memory per connection.")
    var connectionsOnly: Int?

    @Flag(help: "Allow a target that is not on this machine.")
    var allowRemote = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard self.subscribers >= 0, self.publishers >= 0, self.rooms >= 1 else {
            throw ValidationError("--subscribers and --publishers must be 0 or more, --rooms 1 or more.")
        }
        guard self.connectionsOnly != nil || self.publishers >= 1 else {
            throw ValidationError("at least one publisher is needed (or --connections-only N).")
        }
        guard self.duration > 0, self.duration <= 3600 else {
            throw ValidationError("--duration must be 0 to 3600 seconds.")
        }
        guard self.size >= 22, self.size <= 1 << 20 else {
            throw ValidationError("--size must be 22 to 1048576 bytes.")
        }
        guard self.window >= 1 else { throw ValidationError("--window must be 1 or more.") }
        _ = try self.parsedRate()
    }

    private func parsedRate() throws -> BenchPlan.Rate {
        if self.rate == "max" { return .max(window: self.window) }
        guard let perSecond = Double(self.rate), perSecond > 0 else {
            throw ValidationError("--rate must be a number of messages a second, or 'max'.")
        }
        return .perSecond(perSecond)
    }

    func run() async throws {
        try await withExitStatus {
            let (target, publishTarget) = try self.targets()
            Self.raiseOpenFileLimit()
            let plan = BenchPlan(
                host: target.host,
                port: target.port,
                path: target.path,
                subscribers: self.subscribers,
                publishers: self.publishers,
                rate: try self.parsedRate(),
                size: self.size,
                duration: self.duration,
                rooms: self.rooms,
                serverPID: self.serverPID,
                publishTarget: publishTarget
            )
            try self.report(try await self.measure(plan))
        }
    }

    /// Prints the result; a run that lost deliveries or connections exits 1.
    private func report(_ result: BenchResult) throws {
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(BenchReport.text(result, rate: self.rate, window: self.window, duration: self.duration))
        }
        let incomplete =
            result.deliveriesLost > 0 || result.closedEarly > 0
            || (result.live.map { $0 < result.connections } ?? false)
        if incomplete { throw ExitCode.failure }
    }

    /// The server to load, and the one the publishers use if not the same: plain ws://, on this machine
    /// unless --allow-remote.
    private func targets() throws -> (target: ChatURL, publish: (host: String, port: Int)?) {
        let target = try ChatURL(parsing: self.url ?? ConnectionOptions.defaultURL)
        guard !target.secure else {
            throw UsageError(description: "bench speaks plain ws:// only; measure the server without TLS")
        }
        guard self.allowRemote || Self.isLoopback(target.host) else {
            throw UsageError(
                description:
                    "\(target.host) is not this machine; bench only loads loopback targets unless --allow-remote"
            )
        }
        guard let publishURL = self.publishURL else { return (target, nil) }
        let publish = try ChatURL(parsing: publishURL)
        guard !publish.secure, publish.path == target.path, self.allowRemote || Self.isLoopback(publish.host) else {
            throw UsageError(
                description: "--publish-url must be a ws:// URL on this machine with the same path as the URL"
            )
        }
        return (target, (publish.host, publish.port))
    }

    /// Runs the plan, with a progress line on stderr when it is a terminal.
    private func measure(_ plan: BenchPlan) async throws -> BenchResult {
        var progress: BenchRunner.Progress?
        let status = StatusLine()
        defer { status.clear() }
        if isatty(STDERR_FILENO) == 1 { progress = { line in status.show(line) } }
        let runner = BenchRunner(plan: plan, progress: progress)
        let result: BenchResult
        if let count = self.connectionsOnly {
            result = try await runner.holdConnections(count)
        } else {
            result = try await runner.run()
        }
        return result
    }

    /// 127.0.0.0/8, ::1 and localhost.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Thousands of connections need as many descriptors: take the hard limit, as servers do.
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
