import Foundation
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
    ///
    /// posix_spawn and waitpid, not Foundation's `Process`: `Scripts/postgres start` leaves a daemon
    /// behind, and `Process.waitUntilExit()` was seen never returning after it (the script's process
    /// stayed a zombie) on this platform.
    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory
        let outputPath = directory.appendingPathComponent("chat-run-\(UUID().uuidString).out").path
        let errorPath = directory.appendingPathComponent("chat-run-\(UUID().uuidString).err").path
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw TestServerError(description: "cannot run \(arguments[0]): errno \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw TestServerError(description: "\(arguments.joined(separator: " ")) failed: \(errors)")
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
