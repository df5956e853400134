import ChatProtocol
public import ChatTransport
import Histogram
public import NIOCore
import NIOPosix
import Synchronization

/// Runs a `BenchPlan`: connects, publishes for the duration, waits for the deliveries, reports.
public struct BenchRunner: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case connect(made: Int, wanted: Int, reason: String)

        public var description: String {
            switch self {
            case .connect(let made, let wanted, let reason):
                "only \(made) of \(wanted) connections could be opened: \(reason)"
            }
        }
    }

    /// Where progress goes while the run lasts (nil: nowhere).
    public typealias Progress = @Sendable (String) -> Void

    let plan: BenchPlan
    let group: any EventLoopGroup
    let progress: Progress?

    public init(plan: BenchPlan, group: any EventLoopGroup = ChatEventLoops.shared, progress: Progress?) {
        self.plan = plan
        self.group = group
        self.progress = progress
    }

    private struct Opened {
        var channel: any Channel
        var handler: NIOLoopBound<BenchConnection>
        var room: Int
        var publisher: Int?
    }

    private final class Statistics: Sendable {
        let byLoop: [ObjectIdentifier: LoopStats]
        init(loops: [any EventLoop]) {
            self.byLoop = Dictionary(
                uniqueKeysWithValues: loops.map { (ObjectIdentifier($0), LoopStats(eventLoop: $0)) }
            )
        }
        func stats(for loop: any EventLoop) -> LoopStats { self.byLoop[ObjectIdentifier(loop)]! }
        var received: Int { self.byLoop.values.reduce(0) { $0 + $1.received.load(ordering: .relaxed) } }
    }

    /// Publishes for `duration` and measures the deliveries.
    public func run() async throws -> BenchResult {
        let statistics = Statistics(loops: Array(self.group.makeIterator()))
        let connectStart = ContinuousClock.now
        var roles: [(room: Int, publisher: Int?)] = []
        for index in 0..<self.plan.subscribers { roles.append((index % self.plan.rooms, nil)) }
        for index in 0..<self.plan.publishers { roles.append((index % self.plan.rooms, index)) }
        let connections = try await self.connect(roles, statistics: statistics)
        let connectSeconds = (ContinuousClock.now - connectStart).inSeconds
        defer { Self.closeAll(connections) }
        // Presence traffic from the joins settles before the clock starts.
        try await Task.sleep(for: .milliseconds(300))

        let before = self.plan.serverPID.flatMap(ProcessSample.read(pid:))
        let start = NIODeadline.now().uptimeNanoseconds
        let wallStart = ContinuousClock.now
        let publishers = connections.filter { $0.publisher != nil }
        let (perSecond, window): (Double, Int) =
            switch self.plan.rate {
            case .perSecond(let total): (total / Double(max(self.plan.publishers, 1)), 0)
            case .max(let window): (0, window)
            }
        for connection in publishers {
            connection.channel.eventLoop.execute {
                connection.handler.value.startPublishing(perSecond: perSecond, window: window, at: start)
            }
        }
        let reporter = self.startProgress(statistics: statistics, start: wallStart)
        defer { reporter?.cancel() }
        try await Task.sleep(for: .seconds(self.plan.duration))
        var sentByRoom = [Int](repeating: 0, count: self.plan.rooms)
        for connection in publishers {
            let sent = try await connection.channel.eventLoop.submit {
                connection.handler.value.stopPublishing()
                return connection.handler.value.sent
            }.get()
            sentByRoom[connection.room] += sent
        }
        let sendSeconds = (ContinuousClock.now - wallStart).inSeconds
        var members = [Int](repeating: 0, count: self.plan.rooms)
        for connection in connections { members[connection.room] += 1 }
        let expected = zip(sentByRoom, members).reduce(0) { $0 + $1.0 * $1.1 }
        await Self.waitForDeliveries(expected: expected, statistics: statistics)
        let wallEnd = ContinuousClock.now
        let after = self.plan.serverPID.flatMap(ProcessSample.read(pid:))
        reporter?.cancel()

        let snapshots = try await self.snapshots(statistics)
        var latency = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000)
        for snapshot in snapshots { latency.add(snapshot.latency) }
        let received = snapshots.reduce(0) { $0 + $1.received }
        let last = snapshots.map(\.lastReceivedAt).max() ?? start
        let span = Double(last > start ? last - start : 1) / 1e9
        var server: BenchResult.Server?
        if let pid = self.plan.serverPID, let before, let after {
            let cpu = after.cpuSeconds - before.cpuSeconds
            server = BenchResult.Server(
                pid: pid,
                cpuSeconds: cpu,
                cpuShare: cpu / (wallEnd - wallStart).inSeconds,
                cpuMicrosecondsPerDelivery: received > 0 ? cpu * 1e6 / Double(received) : nil,
                rssBytes: after.rssBytes
            )
        }
        return BenchResult(
            mode: "publish",
            url: self.url,
            connectionsRequested: roles.count,
            connections: connections.count,
            connectSeconds: connectSeconds,
            subscribers: self.plan.subscribers,
            publishers: self.plan.publishers,
            rooms: self.plan.rooms,
            size: self.plan.size,
            messagesSent: sentByRoom.reduce(0, +),
            sendSeconds: sendSeconds,
            deliveriesExpected: expected,
            deliveriesReceived: received,
            deliveriesLost: max(expected - received, 0),
            deliveredPerSecond: Double(received) / span,
            latency: latency.totalCount > 0 ? Self.latency(latency) : nil,
            live: nil,
            closedEarly: snapshots.reduce(0) { $0 + $1.closed },
            server: server
        )
    }

    /// Opens `count` idle connections, holds them, and reports the server's memory per connection and how
    /// many are still live (answer a ping) once all are open.
    public func holdConnections(_ count: Int, settle: Duration = .seconds(1)) async throws -> BenchResult {
        let statistics = Statistics(loops: Array(self.group.makeIterator()))
        let before = self.plan.serverPID.flatMap(ProcessSample.read(pid:))
        let connectStart = ContinuousClock.now
        let roles = (0..<count).map { (room: $0 % self.plan.rooms, publisher: Int?.none) }
        let connections = try await self.connect(roles, statistics: statistics)
        let connectSeconds = (ContinuousClock.now - connectStart).inSeconds
        defer { Self.closeAll(connections) }
        try await Task.sleep(for: settle)
        let after = self.plan.serverPID.flatMap(ProcessSample.read(pid:))
        for connection in connections {
            connection.channel.eventLoop.execute { connection.handler.value.ping() }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        var snapshots = try await self.snapshots(statistics)
        while snapshots.reduce(0, { $0 + $1.pongs }) < connections.count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            snapshots = try await self.snapshots(statistics)
        }
        var server: BenchResult.Server?
        if let pid = self.plan.serverPID, let before, let after {
            server = BenchResult.Server(
                pid: pid,
                cpuSeconds: after.cpuSeconds - before.cpuSeconds,
                cpuShare: 0,
                cpuMicrosecondsPerDelivery: nil,
                rssBytes: after.rssBytes,
                rssBeforeBytes: before.rssBytes,
                rssPerConnectionBytes: Double(after.rssBytes - before.rssBytes) / Double(max(connections.count, 1))
            )
        }
        return BenchResult(
            mode: "connections",
            url: self.url,
            connectionsRequested: count,
            connections: connections.count,
            connectSeconds: connectSeconds,
            subscribers: count,
            publishers: 0,
            rooms: self.plan.rooms,
            size: self.plan.size,
            messagesSent: 0,
            sendSeconds: 0,
            deliveriesExpected: 0,
            deliveriesReceived: 0,
            deliveriesLost: 0,
            deliveredPerSecond: 0,
            latency: nil,
            live: snapshots.reduce(0) { $0 + $1.pongs },
            closedEarly: snapshots.reduce(0) { $0 + $1.closed },
            server: server
        )
    }

    private var url: String { "ws://\(self.plan.host):\(self.plan.port)\(self.plan.path)" }

    /// Connects every role, at most `connectConcurrency` at a time; fails unless all of them open.
    private func connect(_ roles: [(room: Int, publisher: Int?)], statistics: Statistics) async throws -> [Opened] {
        let plan = self.plan
        let group = self.group
        var opened: [Opened] = []
        opened.reserveCapacity(roles.count)
        var failure: (any Error)?
        try await withThrowingTaskGroup(of: Result<Opened, any Error>.self) { tasks in
            var next = 0
            func startNext() {
                guard next < roles.count else { return }
                let role = roles[next]
                next += 1
                tasks.addTask {
                    do {
                        return .success(try await Self.open(role, plan: plan, group: group, statistics: statistics))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            for _ in 0..<min(plan.connectConcurrency, roles.count) { startNext() }
            while let result = try await tasks.next() {
                switch result {
                case .success(let connection): opened.append(connection)
                case .failure(let error): failure = failure ?? error
                }
                if failure == nil { startNext() }
            }
        }
        if let failure {
            Self.closeAll(opened)
            throw Failure.connect(made: opened.count, wanted: roles.count, reason: "\(failure)")
        }
        return opened
    }

    private static func open(
        _ role: (room: Int, publisher: Int?),
        plan: BenchPlan,
        group: any EventLoopGroup,
        statistics: Statistics
    ) async throws -> Opened {
        let (host, port) =
            role.publisher != nil ? plan.publishTarget ?? (plan.host, plan.port) : (plan.host, plan.port)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = BenchConnection(
                        host: host,
                        port: port,
                        path: plan.path(room: role.room),
                        publisher: role.publisher,
                        size: plan.size,
                        stats: statistics.stats(for: channel.eventLoop),
                        eventLoop: channel.eventLoop
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port)
            .get()
        let (handler, opened) = try await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: BenchConnection.self)
            return (NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.opened.futureResult)
        }.get()
        do {
            try await opened.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return Opened(channel: channel, handler: handler, room: role.room, publisher: role.publisher)
    }

    private static func closeAll(_ connections: [Opened]) {
        for connection in connections { connection.channel.close(promise: nil) }
    }

    /// Waits until `expected` deliveries arrived, or nothing arrived for two seconds (the rest is lost).
    private static func waitForDeliveries(expected: Int, statistics: Statistics) async {
        var last = statistics.received
        var lastChange = ContinuousClock.now
        while last < expected {
            try? await Task.sleep(for: .milliseconds(10))
            let now = statistics.received
            if now != last {
                last = now
                lastChange = .now
            } else if ContinuousClock.now - lastChange > .seconds(2) {
                return
            }
        }
    }

    private func snapshots(_ statistics: Statistics) async throws -> [LoopStats.Snapshot] {
        var snapshots: [LoopStats.Snapshot] = []
        for loop in self.group.makeIterator() {
            let stats = statistics.stats(for: loop)
            snapshots.append(try await loop.submit { stats.snapshot }.get())
        }
        return snapshots
    }

    private func startProgress(statistics: Statistics, start: ContinuousClock.Instant) -> Task<Void, Never>? {
        guard let progress = self.progress else { return nil }
        return Task {
            var previous = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let received = statistics.received
                let elapsed = (ContinuousClock.now - start).inSeconds
                progress("\(Int(elapsed.rounded())) s: \(received) deliveries, \(received - previous)/s")
                previous = received
            }
        }
    }

    private static func latency(_ histogram: Histogram<UInt64>) -> BenchResult.Latency {
        func ms(_ value: UInt64) -> Double { Double(value) / 1e6 }
        return BenchResult.Latency(
            p50: ms(histogram.valueAtPercentile(50)),
            p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)),
            p999: ms(histogram.valueAtPercentile(99.9)),
            max: ms(histogram.max)
        )
    }
}
