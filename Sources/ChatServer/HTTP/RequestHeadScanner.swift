/// Counts a request head's bytes and lines as they arrive, up to the blank line that ends it.
///
/// A value with no I/O, so the bound is exact and testable byte by byte whatever the chunking: a head is
/// within bounds when its blank line comes before `maxBytes` bytes and `maxLines` lines (the request line
/// included) have been seen.
struct RequestHeadScanner: Sendable, Equatable {
    /// What the bytes seen so far amount to.
    enum Verdict: Equatable {
        /// The head goes on; nothing is over a bound yet.
        case incomplete
        /// The head ended after this many bytes of the chunk just scanned (the rest is the body or frames).
        case complete(headBytesInChunk: Int)
        /// A bound was passed before the head ended.
        case tooLarge
    }

    let maxBytes: Int
    let maxLines: Int
    private(set) var bytes = 0
    private(set) var lines = 0
    /// Bytes on the current line other than CR.
    private var lineLength = 0

    init(maxBytes: Int, maxLines: Int) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
    }

    /// Scans the next chunk of the connection's bytes.
    mutating func scan(_ chunk: UnsafeRawBufferPointer) -> Verdict {
        for (offset, byte) in chunk.enumerated() {
            self.bytes += 1
            if self.bytes > self.maxBytes { return .tooLarge }
            switch byte {
            case UInt8(ascii: "\n"):
                // An empty line ends the head; empty lines before the request line are skipped (RFC 9112 §2.2).
                if self.lineLength == 0 && self.lines > 0 { return .complete(headBytesInChunk: offset + 1) }
                if self.lineLength > 0 {
                    self.lines += 1
                    if self.lines > self.maxLines { return .tooLarge }
                }
                self.lineLength = 0
            case UInt8(ascii: "\r"):
                continue
            default:
                self.lineLength += 1
            }
        }
        return .incomplete
    }
}
