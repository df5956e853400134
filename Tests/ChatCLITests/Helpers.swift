import ChatClient
import ChatProtocol
import Logging

let quietLogger = Logger(label: "chat.test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A test that waits for something that never comes fails with this instead of hanging.
struct ExpectedEventMissing: Error {
    var description: String
}

extension ChatSession {
    /// Returns once `name` joined the room (so a process under test is connected and listening).
    func waitForJoin(of name: String) async throws {
        for try await frame in self.events {
            if case .join(let event) = frame, event.user.name == name { return }
        }
        throw ExpectedEventMissing(description: "\(name) never joined")
    }
}

/// Returns once `name` is in the room of `url` (a process under test is connected and following), seen
/// by a short-lived observer connection.
func waitForMember(_ name: String, url: String) async throws {
    try await ChatClient.withSession(
        ClientConfiguration(url: try ChatURL(parsing: url), name: "observer"),
        logger: quietLogger
    ) { observer in
        try await observer.waitForMember(name)
    }
}

extension ChatSession {
    /// Returns once `name` is in the room: already there at welcome, or joining later.
    func waitForMember(_ name: String) async throws {
        if self.welcome.users.contains(where: { $0.name == name }) { return }
        try await self.waitForJoin(of: name)
    }

    /// The next message.
    func nextMessage() async throws -> ChatMessage? {
        for try await frame in self.events {
            if case .message(let message) = frame { return message }
        }
        return nil
    }
}
