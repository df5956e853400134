import Synchronization

/// The messages of a `publish` run that were read but not yet acknowledged, in order, shared by the input
/// reader, the per-connection sender and the ack reader. Survives reconnects: what it still holds after a
/// connection is lost is sent again, in order, with the same ids (the server de-duplicates them).
final class PublishLedger: Sendable {
    struct Entry: Sendable {
        var number: Int
        var id: String
        var text: String
        var weight: Int
    }

    private struct State {
        var pending: [Entry] = []
        var acknowledged = 0
        var lastSeq: UInt64?
        var inputFinished = false
        var resend: (number: Int, notBefore: ContinuousClock.Instant)?
        var version = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Adds a message read from the input.
    func append(_ entry: Entry) {
        self.change { $0.pending.append(entry) }
    }

    /// Marks the input as finished.
    func finishInput() {
        self.change { $0.inputFinished = true }
    }

    /// Records the ack for `id` with its seq; the entry's weight, or nil for an id not pending (a repeated ack).
    func acknowledge(_ id: String, seq: UInt64) -> Int? {
        var weight: Int?
        self.change { state in
            guard let index = state.pending.firstIndex(where: { $0.id == id }) else { return }
            weight = state.pending.remove(at: index).weight
            state.acknowledged += 1
            state.lastSeq = max(state.lastSeq ?? 0, seq)
        }
        return weight
    }

    /// The server refused `id` for now (rate limited): send it and everything after it again, in order,
    /// no sooner than `delay` from now. Earlier requests that reach further back win.
    func requestResend(of id: String, after delay: Duration) {
        let notBefore = ContinuousClock.now + delay
        self.change { state in
            guard let entry = state.pending.first(where: { $0.id == id }) else { return }
            if let current = state.resend {
                state.resend = (min(current.number, entry.number), max(current.notBefore, notBefore))
            } else {
                state.resend = (entry.number, notBefore)
            }
        }
    }

    /// A pending resend request, removed as it is taken.
    func takeResend() -> (number: Int, notBefore: ContinuousClock.Instant)? {
        self.state.withLock { state in
            defer { state.resend = nil }
            return state.resend
        }
    }

    /// Whether a resend was requested and not taken yet.
    var resendRequested: Bool { self.state.withLock { $0.resend != nil } }

    /// The highest seq acknowledged so far.
    var lastSeq: UInt64? { self.state.withLock { $0.lastSeq } }

    /// Whether `id` is one of the pending messages.
    func isPending(_ id: String) -> Bool {
        self.state.withLock { state in state.pending.contains { $0.id == id } }
    }

    /// The pending entries numbered after `number`, and whether everything is done (input finished, all acked).
    func entries(after number: Int) -> (entries: [Entry], complete: Bool, version: Int) {
        self.state.withLock { state in
            (
                state.pending.filter { $0.number > number },
                state.inputFinished && state.pending.isEmpty,
                state.version
            )
        }
    }

    /// How many messages were acknowledged.
    var acknowledged: Int { self.state.withLock { $0.acknowledged } }

    /// Returns once anything changed after `version` (or the task is cancelled).
    func waitForChange(after version: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLock { state in
                    if state.version != version || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            self.change { _ in }
        }
    }

    /// Waits until nothing is pending.
    func waitUntilIdle() async {
        while true {
            let (idle, version) = self.state.withLock { ($0.pending.isEmpty, $0.version) }
            if idle || Task.isCancelled { return }
            await self.waitForChange(after: version)
        }
    }

    private func change(_ body: (inout State) -> Void) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            body(&state)
            state.version += 1
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
