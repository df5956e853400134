public import ChatProtocol
public import ChatTransport
public import Logging
public import NIOCore
import NIOPosix

/// What a follower sees: connections, gaps, frames and reconnection attempts, in order.
public enum FollowEvent: Sendable {
    /// A connection was made (the first, or a reconnection).
    case connected(Welcome)
    /// The server could not replay everything after `since`: messages up to `firstSeq - 1` are missing
    /// (`epochChanged`: the server restarted without a store, so its seqs started over).
    case gap(since: UInt64, firstSeq: UInt64?, epochChanged: Bool)
    /// The server no longer has everything said from `since` on (`sinceTime`): what it has, from seq
    /// `firstSeq` on, is replayed next.
    case incompleteReplay(since: Timestamp, firstSeq: UInt64?)
    /// A frame from the server.
    case frame(ServerFrame)
    /// The connection is lost or could not be made; the next attempt comes after `delay`.
    case reconnecting(attempt: Int, delay: Duration, reason: String)
}

/// Follows a room across reconnects, resuming after the last message seen: no gap and no duplicate,
/// and a `gap` event when the server can no longer fill one. A replay asked for (`history`,
/// `sinceTime`) is asked for again until one of its messages arrived.
///
/// The one reconnect loop of the client: `tail` and `join` follow a room with it, and `send` and `join`
/// plug their `Outbox` into it (`OutboxDriver.attach`, `OutboxDriver.refused`).
public enum ChatFollower {
    /// How the first connection is made.
    public enum FirstConnection: Sendable {
        /// Waited for under the policy like any other (a follower waits for its server, like `tail -F`).
        case retried
        /// Tried once on each server, then the error is thrown: a script that sends wants to know at once.
        case triedOnce
    }

    /// Follows until `handle` returns false.
    /// - Parameters:
    ///   - first: Whether the first connection is retried (`tail`, `join`) or tried once (`send`).
    ///   - resumes: Whether a reconnection resumes after the last message seen (a sender, which reads no
    ///     messages, asks for none to be replayed).
    ///   - onSession: Told of each new connection (to send on it) and, with nil, of its end.
    /// - Throws: the last connection error once `policy` gives up, or an error that is not worth a retry.
    public static func follow(
        _ configuration: ClientConfiguration,
        policy: ReconnectPolicy,
        first: FirstConnection = .retried,
        resumes: Bool = true,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared,
        onSession: (ChatSession?) async -> Void = { _ in },
        handle: (FollowEvent) async throws -> Bool
    ) async throws {
        var configuration = configuration
        // The seq after which everything was seen; nil while a requested replay has not started.
        var cursor: UInt64? = configuration.since
        var epoch: String? = configuration.epoch
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        var connected = false
        var failedFirst = 0
        while true {
            let started = ContinuousClock.now
            do {
                try await ChatClient.withSession(
                    configuration,
                    logger: logger,
                    eventLoopGroup: eventLoopGroup
                ) { session in
                    let welcome = session.welcome
                    connected = true
                    await onSession(session)
                    guard try await handle(.connected(welcome)) else { return }
                    if let since = configuration.since, welcome.recovered == false {
                        let epochChanged = epoch != nil && epoch != welcome.epoch
                        guard
                            try await handle(.gap(since: since, firstSeq: welcome.firstSeq, epochChanged: epochChanged))
                        else { return }
                        // What was missed is reported; carry on from the live end (or the replay asked for).
                        cursor = configuration.history == nil ? welcome.seq : nil
                    } else if configuration.since == nil, let time = configuration.sinceTime {
                        if welcome.recovered == false {
                            guard try await handle(.incompleteReplay(since: time, firstSeq: welcome.firstSeq)) else {
                                return
                            }
                        }
                    } else if cursor == nil && configuration.history == nil {
                        cursor = welcome.seq
                    }
                    epoch = welcome.epoch
                    for try await frame in session.events {
                        if case .message(let message) = frame { cursor = message.seq }
                        guard try await handle(.frame(frame)) else { return }
                    }
                    // The stream only ends quietly when this side closed (a sender done with its outbox):
                    // that ends the following too. Anything else is a lost connection.
                    guard session.closedByThisSide else {
                        throw ChatClientError.connectionLost("the connection ended")
                    }
                }
                // The session only returns when `handle` asked to stop.
                return
            } catch {
                await onSession(nil)
                if case .triedOnce = first, !connected {
                    // Every server once, at once; then the error is the answer.
                    failedFirst += 1
                    guard failedFirst < configuration.servers.count else { throw error }
                    configuration.moveToNextServer()
                    continue
                }
                let delay = try policy.nextAttempt(
                    after: error,
                    connectedFor: ContinuousClock.now - started,
                    attempt: &attempt,
                    using: &generator
                )
                guard try await handle(.reconnecting(attempt: attempt, delay: delay, reason: "\(error)")) else {
                    return
                }
                try await Task.sleep(for: delay)
                // With several servers (a cluster), the next one: this one may be the one that is gone.
                configuration.moveToNextServer()
            }
            // Resume after what was seen; a replay that never started is asked for again.
            if resumes, let cursor {
                configuration.since = cursor
                configuration.epoch = epoch
                configuration.history = nil
                configuration.sinceTime = nil
            }
        }
    }
}
