import ChatClient
import ChatProtocol
import Synchronization

/// `send --progress`: how far the run is — sent, acknowledged, rate, elapsed — on a `StatusLine`,
/// redrawn as acknowledgements come (at most every `interval`) and every `interval` while none do,
/// and erased at the end.
final class SendProgress: Sendable {
    static let interval = Duration.milliseconds(200)

    private struct State {
        var status = ChatPublisher.Status(sent: 0, acknowledged: 0)
        var drawn: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let line = StatusLine()
    private let started = ContinuousClock.now

    /// The counts changed: the first acknowledgement is drawn at once, the rest no more often than
    /// every `interval`.
    func update(_ status: ChatPublisher.Status) {
        let now = ContinuousClock.now
        self.state.withLock { state in
            let first = state.status.acknowledged == 0
            state.status = status
            if !first, let drawn = state.drawn, now - drawn < Self.interval { return }
            self.draw(&state, now: now)
        }
    }

    /// Prints a notice (a reconnect) above the status.
    func notice(_ text: String) {
        self.line.printAbove(text)
    }

    /// Runs `body` with the status redrawn every `interval` (the time moves on while nothing is
    /// acknowledged), and erased once it returns or throws.
    func showing<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        defer { self.line.clear() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.interval)
                    self.state.withLock { self.draw(&$0, now: .now) }
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    private func draw(_ state: inout State, now: ContinuousClock.Instant) {
        state.drawn = now
        self.line.show(Self.text(state.status, elapsed: now - self.started))
    }

    /// `sent 1200, acked 1180, 5900/s, 2.1s`.
    static func text(_ status: ChatPublisher.Status, elapsed: Duration) -> String {
        let seconds = elapsed.inSeconds
        let rate = seconds > 0 ? Int((Double(status.acknowledged) / seconds).rounded()) : 0
        let tenths = Int((seconds * 10).rounded(.down))
        let time =
            tenths < 600 ? "\(tenths / 10).\(tenths % 10)s" : "\(tenths / 600)m\(Self.twoDigits(tenths / 10 % 60))s"
        return "sent \(status.sent), acked \(status.acknowledged), \(rate)/s, \(time)"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
