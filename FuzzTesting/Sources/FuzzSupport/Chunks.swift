/// Splits an input into the chunks a socket could deliver it in: the first byte seeds the sizes, so the
/// fuzzer explores chunkings as it explores contents, and the same input always splits the same way.
public struct Chunks: Sequence {
    /// The input after its first byte: what is delivered.
    public let bytes: UnsafeRawBufferPointer
    private let seed: UInt8

    /// The input after its first byte, split as that byte says (an empty input has no chunks).
    public init(_ input: UnsafeRawBufferPointer) {
        self.seed = input.first ?? 0
        self.bytes = input.isEmpty ? input : UnsafeRawBufferPointer(rebasing: input.dropFirst())
    }

    public func makeIterator() -> Iterator {
        Iterator(bytes: self.bytes, whole: self.seed % 2 == 0, state: UInt32(self.seed) &* 2_654_435_761 | 1)
    }

    public struct Iterator: IteratorProtocol {
        let bytes: UnsafeRawBufferPointer
        /// An even seed delivers everything in one read (a head or a frame that arrives whole).
        let whole: Bool
        var state: UInt32
        var offset = 0

        /// The next chunk: the whole rest, or 1 to 64 bytes.
        public mutating func next() -> UnsafeRawBufferPointer? {
            guard self.offset < self.bytes.count else { return nil }
            // A xorshift step: cheap, and every seed gives its own sequence of sizes.
            self.state ^= self.state << 13
            self.state ^= self.state >> 17
            self.state ^= self.state << 5
            let size = self.whole ? self.bytes.count : Int(self.state % 64) + 1
            let end = Swift.min(self.bytes.count, self.offset + size)
            defer { self.offset = end }
            return UnsafeRawBufferPointer(rebasing: self.bytes[self.offset..<end])
        }
    }
}
