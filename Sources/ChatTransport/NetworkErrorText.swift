import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Network errors as the few words a user needs (`connection refused`, `address already in use`).
package enum NetworkErrorText {
    /// Whether `error` is the peer resetting the connection (ECONNRESET), however NIO wrapped it.
    package static func isReset(_ error: any Error) -> Bool {
        if let error = error as? NIOConnectionError {
            return error.connectionErrors.contains { Self.isReset($0.error) }
        }
        return (error as? IOError)?.errnoCode == ECONNRESET
    }

    /// A short reason: "connection refused" rather than NIO's full error text.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first {
                return Self.describe(first.error)
            }
            return "cannot resolve the host name"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if case .connectTimeout? = error as? ChannelError {
            return "timed out"
        }
        if error is SocketAddressError || error is SocketAddressError.UnknownHost {
            return "cannot resolve the host name"
        }
        return "\(error)"
    }
}
