package import ChatTransport
import NIOWebSocket
import Synchronization

/// The connection's `ConnectionStateMachine`, shared by the session (which closes) and its reader
/// (which answers pings and the server's close).
package final class ClientLifecycle: Sendable {
    private let machine = Mutex(ConnectionStateMachine.client())

    package init() {}

    package func withMachine<Result>(_ body: (inout ConnectionStateMachine) -> Result) -> Result {
        self.machine.withLock { body(&$0) }
    }
}
