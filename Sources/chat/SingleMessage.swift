/// One message as an async sequence, for `publish`.
struct SingleMessage: AsyncSequence, Sendable {
    typealias Element = String
    let text: String

    init(_ text: String) {
        self.text = text
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(text: self.text)
    }

    struct Iterator: AsyncIteratorProtocol {
        var text: String?

        mutating func next() async -> String? {
            defer { self.text = nil }
            return self.text
        }
    }
}
