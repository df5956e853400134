import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Network errors as the few words a user needs (`connection refused`, `address already in use`).
enum NetworkErrorText {
    /// A short reason: "connection refused" rather than NIO's full error text.
    static func describe(_ error: any Error) -> String {
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
