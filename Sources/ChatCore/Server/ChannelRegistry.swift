import NIOCore
import Synchronization

/// Every open child channel of the server, so a shutdown can wait for them and close the stragglers.
final class ChannelRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes.
    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        self.state.withLock { $0.channels[key] = channel }
        channel.closeFuture.whenComplete { _ in
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.channels[key] = nil
                guard state.channels.isEmpty else { return [] }
                defer { state.emptyWaiters = [] }
                return state.emptyWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// The number of open channels.
    var count: Int { self.state.withLock { $0.channels.count } }

    /// Returns once no channel is open, or when `timeout` passes; then closes whatever is still open.
    func waitUntilEmpty(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let empty = self.state.withLock { state in
                        if state.channels.isEmpty { return true }
                        state.emptyWaiters.append(continuation)
                        return false
                    }
                    if empty { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            await group.next()
            // Whichever finished first, closing the rest also releases the waiter above.
            let remaining = self.state.withLock { Array($0.channels.values) }
            for channel in remaining { channel.close(promise: nil) }
            group.cancelAll()
            await group.waitForAll()
        }
    }
}
