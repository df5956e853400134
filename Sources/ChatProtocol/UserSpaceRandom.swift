#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random numbers from the C library's `arc4random` (a ChaCha20 generator in user space on glibc 2.36 and
/// macOS): as unpredictable as masking keys (RFC 6455 §5.3) and ids need, without the system call per number
/// that `SystemRandomNumberGenerator` makes on Linux — a server-made message id took twelve of them.
package struct UserSpaceRandom: RandomNumberGenerator {
    package init() {}

    package mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { arc4random_buf($0.baseAddress!, 8) }
        return value
    }
}
