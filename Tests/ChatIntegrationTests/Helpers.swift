import ChatClient
import ChatProtocol
import Foundation
import Logging

/// Quiet unless CHAT_TEST_LOG names a level (`CHAT_TEST_LOG=trace swift test`), then on stderr.
let testLogger: Logger = {
    guard let level = ProcessInfo.processInfo.environment["CHAT_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) else {
        return Logger(label: "chat.test", factory: { _ in SwiftLogNoOpLogHandler() })
    }
    var logger = Logger(label: "chat.test", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = level
    return logger
}()

/// A fixed list of texts as the async sequence `publish` takes.
struct Lines: AsyncSequence, Sendable {
    typealias Element = String
    let texts: [String]

    init(_ texts: [String]) {
        self.texts = texts
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(texts: self.texts[...])
    }

    struct Iterator: AsyncIteratorProtocol {
        var texts: ArraySlice<String>

        mutating func next() async -> String? {
            self.texts.popFirst()
        }
    }
}

extension ServerFrame {
    var message: ChatMessage? {
        if case .message(let message) = self { return message }
        return nil
    }

    var welcome: Welcome? {
        if case .welcome(let welcome) = self { return welcome }
        return nil
    }

    var ack: Ack? {
        if case .ack(let ack) = self { return ack }
        return nil
    }

    var join: PresenceEvent? {
        if case .join(let event) = self { return event }
        return nil
    }

    var leave: PresenceEvent? {
        if case .leave(let event) = self { return event }
        return nil
    }

    var nick: PresenceEvent? {
        if case .nick(let event) = self { return event }
        return nil
    }

    var error: ServerError? {
        if case .error(let error) = self { return error }
        return nil
    }
}

extension AsyncThrowingStream<ServerFrame, any Error>.Iterator {
    /// The next frame `extract` accepts, skipping the others; nil when the stream ends.
    mutating func nextMatching<T>(_ extract: (ServerFrame) -> T?) async throws -> T? {
        while let frame = try await self.next() {
            if let value = extract(frame) { return value }
        }
        return nil
    }
}

extension ChatSession {
    /// The next `count` messages.
    func messages(_ count: Int) async throws -> [ChatMessage] {
        var events = self.events.makeAsyncIterator()
        var messages: [ChatMessage] = []
        while messages.count < count, let message = try await events.nextMatching(\.message) {
            messages.append(message)
        }
        return messages
    }
}

extension ServerFrame {
    var direct: DirectMessage? {
        if case .direct(let direct) = self { return direct }
        return nil
    }

    var typing: PresenceEvent? {
        if case .typing(let event) = self { return event }
        return nil
    }
}
