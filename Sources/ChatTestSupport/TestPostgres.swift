public import Foundation
import Synchronization

/// A real PostgreSQL for the cluster's tests, started by `Scripts/postgres` in a temporary directory.
///
/// `shared` is one server for the whole test run (`$CHAT_TEST_POSTGRES` when `Scripts/test` started it,
/// else one started here on first use and stopped when the process exits); each test makes a database of
/// its own on it (~60 ms). A test that crashes PostgreSQL starts a `privateServer()` of its own. There is
/// no mock and no skip: without PostgreSQL these tests fail, saying so.
public final class TestPostgres: Sendable {
    /// `postgres://chat@127.0.0.1:PORT/postgres`.
    public let url: String
    /// Its directory, for `crash()`/`restart()` (nil for a server this process did not start).
    public let directory: String?

    private init(url: String, directory: String?) {
        self.url = url
        self.directory = directory
    }

    /// The server every test shares.
    public static func shared() throws -> TestPostgres {
        try sharedServer.get()
    }

    private static let sharedServer: Result<TestPostgres, any Error> = Result {
        if let url = ProcessInfo.processInfo.environment["CHAT_TEST_POSTGRES"], !url.isEmpty {
            return TestPostgres(url: url, directory: nil)
        }
        let server = try TestPostgres.privateServer()
        if let directory = server.directory {
            TestPostgres.directoryToStop.withLock { $0 = directory }
            atexit { if let directory = TestPostgres.directoryToStop.withLock({ $0 }) { TestPostgres.stop(directory) } }
        }
        return server
    }

    private static let directoryToStop = Mutex<String?>(nil)

    /// A server of its own, to crash and restart.
    public static func privateServer() throws -> TestPostgres {
        let directory = try Self.run(["mktemp", "-d", "-t", "chat-postgres-XXXXXX"])
        let url = try Self.run([Self.script, "start", directory])
        return TestPostgres(url: url, directory: directory)
    }

    /// A new, empty database on this server: its URL.
    public func createDatabase() throws -> String {
        let name = "chat_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try self.query("CREATE DATABASE \(name)")
        return self.url.replacingOccurrences(of: "/postgres", with: "/\(name)")
    }

    /// Runs `sql` with psql in `database` (a URL; the server's `postgres` database by default) and returns
    /// its unaligned output.
    public func query(_ sql: String, database: String? = nil) throws -> String {
        try Self.run(["psql", database ?? self.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    /// Stops PostgreSQL the way a power cut would: no checkpoint, no goodbye to clients.
    public func crash() throws {
        _ = try Self.run([Self.script, "crash", try self.ownDirectory()])
    }

    /// Starts it again on the same port, after crash recovery.
    public func restart() throws {
        _ = try Self.run([Self.script, "restart", try self.ownDirectory()])
    }

    /// Stops it and removes its directory.
    public func stop() {
        if let directory = self.directory { Self.stop(directory) }
    }

    private func ownDirectory() throws -> String {
        guard let directory = self.directory else {
            throw TestServerError(description: "this PostgreSQL was not started by the test")
        }
        return directory
    }

    private static func stop(_ directory: String) {
        _ = try? Self.run([Self.script, "stop", directory])
    }

    /// `Scripts/postgres` of this checkout.
    private static var script: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/postgres").path
    }

    /// Runs a command and returns its stdout, trimmed; a failure throws with its stderr.
    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestServerError(
                description: "\(arguments.joined(separator: " ")) failed: \(String(decoding: errorData, as: UTF8.self))"
            )
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
