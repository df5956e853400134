import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard input for `send`, read on a thread of its own because read(2) blocks — and a blocked
/// cooperative thread would stall the async code that does the networking.
public enum StandardInput {
    /// A problem reading stdin.
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every line of stdin as it arrives (not after EOF); empty lines are skipped and a trailing CR dropped.
    public static func lines() -> Lines {
        Lines()
    }

    /// All of stdin as one text (trailing newlines removed); fails past `limit` bytes without reading on.
    public static func readAll(limit: Int) async throws -> String {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            let thread = Thread {
                var data: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = read(STDIN_FILENO, &chunk, chunk.count)
                    if count < 0 {
                        if errno == EINTR { continue }
                        continuation.resume(
                            throwing: ReadError(
                                description: "cannot read standard input: \(String(cString: strerror(errno)))"
                            )
                        )
                        return
                    }
                    if count == 0 { break }
                    data.append(contentsOf: chunk[0..<count])
                    if data.count > limit + 2 {
                        continuation.resume(
                            throwing: ReadError(
                                description:
                                    "standard input is over the server's limit of \(limit) bytes for one message"
                            )
                        )
                        return
                    }
                }
                while let last = data.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
                    data.removeLast()
                }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
            thread.name = "chat-stdin"
            thread.start()
        }
    }

    /// The lines of stdin, read in 64 KiB chunks; at most a few chunks are read ahead of the sender, so a
    /// huge input is streamed rather than held in memory.
    public struct Lines: AsyncSequence, Sendable {
        public typealias Element = String

        public func makeAsyncIterator() -> Iterator {
            let (stream, continuation) = AsyncStream<[String]>.makeStream()
            let credits = DispatchSemaphore(value: 8)
            let thread = Thread {
                Self.produce(into: continuation, credits: credits)
            }
            thread.name = "chat-stdin"
            thread.start()
            return Iterator(chunks: stream.makeAsyncIterator(), credits: credits)
        }

        public struct Iterator: AsyncIteratorProtocol {
            var chunks: AsyncStream<[String]>.Iterator
            let credits: DispatchSemaphore
            var pending: [String] = []
            var index = 0

            public mutating func next() async -> String? {
                while self.index == self.pending.count {
                    guard let chunk = await self.chunks.next() else { return nil }
                    self.credits.signal()
                    self.pending = chunk
                    self.index = 0
                }
                defer { self.index += 1 }
                return self.pending[self.index]
            }
        }

        private static func produce(into continuation: AsyncStream<[String]>.Continuation, credits: DispatchSemaphore) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            var partial: [UInt8] = []
            func line(_ bytes: ArraySlice<UInt8>) -> String? {
                var bytes = bytes
                if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            }
            while true {
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                var lines: [String] = []
                var start = 0
                for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                    if partial.isEmpty {
                        if let text = line(buffer[start..<index]) { lines.append(text) }
                    } else {
                        partial.append(contentsOf: buffer[start..<index])
                        if let text = line(partial[...]) { lines.append(text) }
                        partial.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                }
                partial.append(contentsOf: buffer[start..<count])
                if !lines.isEmpty {
                    credits.wait()
                    continuation.yield(lines)
                }
            }
            if let text = line(partial[...]) { continuation.yield([text]) }
            continuation.finish()
        }
    }
}
