import NIOCore
import Synchronization

/// Every open child channel of the server — to enforce the connection limits, and so a shutdown can wait
/// for them and close the stragglers.
final class ChannelRegistry: Sendable {
    /// Why a new connection is not served.
    enum Refusal: Equatable {
        /// The server is at `maxConnections`.
        case full
        /// Its address already has `maxConnectionsPerAddress` open.
        case tooManyFromAddress
    }

    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var perAddress: [String: Int] = [:]
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes — unless a limit is reached (`maxPerAddress` 0: no per-address limit).
    func admit(_ channel: any Channel, max: Int, maxPerAddress: Int) -> Refusal? {
        let key = ObjectIdentifier(channel)
        let address = channel.remoteAddress?.ipAddress ?? "?"
        let refusal = self.state.withLock { state -> Refusal? in
            guard state.channels.count < max else { return .full }
            let fromAddress = state.perAddress[address, default: 0]
            guard maxPerAddress == 0 || fromAddress < maxPerAddress else { return .tooManyFromAddress }
            state.channels[key] = channel
            state.perAddress[address] = fromAddress + 1
            return nil
        }
        guard refusal == nil else { return refusal }
        channel.closeFuture.whenComplete { _ in
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.channels[key] = nil
                let left = state.perAddress[address, default: 1] - 1
                state.perAddress[address] = left > 0 ? left : nil
                guard state.channels.isEmpty else { return [] }
                defer { state.emptyWaiters = [] }
                return state.emptyWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        return nil
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
