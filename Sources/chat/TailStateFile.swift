import ChatProtocol
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `tail --state-file` stopped: the room, the epoch and the seq of the last line it printed.
///
/// Written after every printed message by writing a temporary file and renaming it over the old one, so
/// a `tail` killed at any moment leaves either the previous state or the new one, never half of one.
struct TailStateFile {
    struct State: Codable, Equatable {
        var room: RoomName
        var epoch: String
        var seq: UInt64
    }

    /// A state file that cannot be read or written.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let path: String

    /// The saved state, or nil when the file does not exist yet.
    func load() throws(Failure) -> State? {
        guard let data = FileManager.default.contents(atPath: self.path) else {
            if FileManager.default.fileExists(atPath: self.path) {
                throw Failure(description: "cannot read the state file \(self.path)")
            }
            return nil
        }
        do {
            return try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw Failure(
                description: "the state file \(self.path) is not a chat tail state; remove it to start afresh"
            )
        }
    }

    /// Saves `state` atomically (write a temporary file, then rename), readable by the owner only.
    func save(_ state: State) throws(Failure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var bytes = try? encoder.encode(state) else { throw Failure(description: "cannot encode the state") }
        bytes.append(UInt8(ascii: "\n"))
        let temporary = self.path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw self.failure("cannot write the state file \(temporary)") }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw self.failure("cannot write the state file \(temporary)") }
        guard rename(temporary, self.path) == 0 else {
            throw self.failure("cannot replace the state file \(self.path)")
        }
    }

    private func failure(_ message: String) -> Failure {
        Failure(description: "\(message): \(String(cString: strerror(errno)).lowercased())")
    }
}
