#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback port that refuses connections for as long as `body` runs: a socket bound to it but not
/// listening. Unlike a port a stopped server gave back, no other test's server can take it meanwhile
/// (tests run in parallel, and port 0 hands out freed ports again).
public func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    try await withLoopbackSocket(listening: false, body)
}

/// A loopback port where connections are made (the kernel completes them) and then nothing is said:
/// a socket that listens and never accepts, as a hung server does.
public func withSilentPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    try await withLoopbackSocket(listening: true, body)
}

private func withLoopbackSocket<T>(listening: Bool, _ body: (Int) async throws -> T) async throws -> T {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestServerError(description: "socket() failed: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
        }
    }
    guard bound else { throw TestServerError(description: "cannot bind a loopback port: errno \(errno)") }
    if listening, listen(descriptor, 8) != 0 {
        throw TestServerError(description: "cannot listen on a loopback port: errno \(errno)")
    }
    return try await body(Int(UInt16(bigEndian: address.sin_port)))
}
