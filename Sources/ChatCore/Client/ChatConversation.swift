public import Logging
import Synchronization

/// A room joined to talk in (`chat join`): followed across reconnects like `tail` — no gap, no duplicate —
/// while what the user types is sent with ids and resent after a reconnect until acknowledged, in order
/// and stored once (the server de-duplicates ids).
///
/// Every frame goes out through one sender task, so a resend after a reconnect and a message typed at
/// that moment can never swap places.
public final class ChatConversation: Sendable {
    private enum Command: Sendable {
        case connected(ChatSession)
        case disconnected
        case message(id: String, text: String)
        case nick(String)
        /// Refused as rate limited: send everything unacknowledged again after the delay, in order.
        case resend(after: Duration)
    }

    /// What waits to go out, in the order the user asked for it.
    private enum Outgoing {
        case message(id: String, text: String)
        /// Kept in line with the messages: the ones typed before a rename go out under the old name.
        case nick(String)

        func isMessage(_ id: String) -> Bool {
            if case .message(id, _) = self { true } else { false }
        }
    }

    private struct State {
        /// Messages until acknowledged; renames until sent on a live connection.
        var pending: [Outgoing] = []
        var sent = 0
        /// The last name asked for and sent, asked for again first after a reconnect.
        var nick: String?
        var resendScheduled = false
        var connectedOnce = false
        var deliveredWaiters: [CheckedContinuation<Void, Never>] = []

        var unacknowledged: Int {
            self.pending.count { if case .message = $0 { true } else { false } }
        }
    }

    private let state = Mutex(State())
    private let commands: AsyncStream<Command>
    private let sink: AsyncStream<Command>.Continuation
    private let idPrefix = RandomID.make(length: 8) + "-"

    public init() {
        (self.commands, self.sink) = AsyncStream.makeStream()
    }

    /// Messages sent but not acknowledged yet.
    public var unacknowledged: Int {
        self.state.withLock { $0.unacknowledged }
    }

    /// Sends `text` now, or once connected again.
    public func send(_ text: String) {
        let id = self.state.withLock { state in
            state.sent += 1
            let id = self.idPrefix + String(state.sent)
            state.pending.append(.message(id: id, text: text))
            return id
        }
        self.sink.yield(.message(id: id, text: text))
    }

    /// Asks for a new name, now (after what was typed before it) and after every reconnect.
    public func rename(_ name: String) {
        self.state.withLock { $0.pending.append(.nick(name)) }
        self.sink.yield(.nick(name))
    }

    /// Returns once connected at least once and every message sent so far is acknowledged (at once when
    /// cancelled).
    public func waitUntilDelivered() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = self.state.withLock { state in
                    guard state.unacknowledged > 0 || !state.connectedOnce, !Task.isCancelled else { return true }
                    state.deliveredWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            self.resumeWaiters(force: true)
        }
    }

    /// Follows the room and keeps sending until `handle` returns false, as `ChatFollower.follow` does.
    public func run(
        _ configuration: ClientConfiguration,
        policy: ReconnectPolicy,
        logger: Logger,
        handle: (FollowEvent) async throws -> Bool
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.runSender() }
            defer { group.cancelAll() }
            try await ChatFollower.follow(
                configuration,
                policy: policy,
                logger: logger,
                onSession: { session in
                    self.sink.yield(session.map { .connected($0) } ?? .disconnected)
                    if session != nil {
                        self.state.withLock { $0.connectedOnce = true }
                        self.resumeWaiters(force: false)
                    }
                }
            ) { event in
                switch event {
                case .frame(.ack(let ack)): self.acknowledge(ack.id)
                case .frame(.error(let error)): self.refused(error)
                default: break
                }
                return try await handle(event)
            }
        }
    }

    private func runSender() async {
        var session: ChatSession?
        for await command in self.commands {
            // A failed send means the connection is going; the follower reconnects and everything
            // unacknowledged is sent again then.
            switch command {
            case .connected(let new):
                session = new
                let (pending, nick) = self.state.withLock { ($0.pending, $0.nick) }
                if let nick { try? await new.send(.nick(name: nick)) }
                for outgoing in pending { await self.send(outgoing, on: new) }
            case .disconnected:
                session = nil
            case .message(let id, let text):
                if let session { await self.send(.message(id: id, text: text), on: session) }
            case .nick(let name):
                if let session { await self.send(.nick(name), on: session) }
            case .resend(let delay):
                // Sleeping here holds back every later send too: nothing may overtake the refused message.
                try? await Task.sleep(for: delay)
                let pending = self.state.withLock { state in
                    state.resendScheduled = false
                    return state.pending
                }
                if let session { for outgoing in pending { await self.send(outgoing, on: session) } }
            }
        }
    }

    private func send(_ outgoing: Outgoing, on session: ChatSession) async {
        switch outgoing {
        case .message(let id, let text):
            try? await session.send(.message(id: id, text: text))
        case .nick(let name):
            guard (try? await session.send(.nick(name: name))) != nil else { return }
            // Sent: from now on it is the name to ask for again after a reconnect.
            self.state.withLock { state in
                state.nick = name
                if let index = state.pending.firstIndex(where: { if case .nick(name) = $0 { true } else { false } }) {
                    state.pending.remove(at: index)
                }
            }
        }
    }

    /// A refused message: rate limited ones are sent again (once for the whole refused run), others
    /// (too large, malformed) are given up — the user sees the server's error.
    private func refused(_ error: ServerError) {
        guard let id = error.id else { return }
        if error.code == ChatErrorCode.rateLimited {
            let schedule = self.state.withLock { state in
                guard state.pending.contains(where: { $0.isMessage(id) }), !state.resendScheduled else { return false }
                state.resendScheduled = true
                return true
            }
            if schedule { self.sink.yield(.resend(after: .seconds(error.retryAfter ?? 1))) }
        } else {
            self.acknowledge(id)
        }
    }

    private func acknowledge(_ id: String) {
        self.state.withLock { $0.pending.removeAll { $0.isMessage(id) } }
        self.resumeWaiters(force: false)
    }

    private func resumeWaiters(force: Bool) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard force || (state.unacknowledged == 0 && state.connectedOnce) else { return [] }
            defer { state.deliveredWaiters.removeAll() }
            return state.deliveredWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
