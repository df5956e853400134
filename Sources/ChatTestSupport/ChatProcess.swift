public import Foundation

/// The built `chat` binary, run as a child process with pipes — as users and scripts run it.
public final class ChatProcess: Sendable {

    /// Where the binary is: $CHAT_BINARY, else next to the test bundle (where SwiftPM builds it).
    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["CHAT_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // Inside an .xctest bundle directory on some platforms, the products are one level up.
        if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("chat")
    }

    private let process = Process()
    private let stdinPipe = Pipe()
    /// Lines the process writes to stdout, as they come.
    public let stdout: AsyncStream<String>
    /// Lines the process writes to stderr, as they come.
    public let stderr: AsyncStream<String>

    /// Starts `chat` with `arguments` (or `/bin/sh -c shell`, with `$CHAT` set to the binary).
    public init(_ arguments: [String], shell: String? = nil, environment: [String: String] = [:]) throws {
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        if let shell {
            self.process.executableURL = URL(fileURLWithPath: "/bin/sh")
            self.process.arguments = ["-c", shell]
        } else {
            self.process.executableURL = Self.binary
            self.process.arguments = arguments
        }
        var merged = ProcessInfo.processInfo.environment
        merged["CHAT"] = Self.binary.path
        merged["CHAT_URL"] = nil
        merged["NO_COLOR"] = "1"
        for (key, value) in environment { merged[key] = value }
        self.process.environment = merged
        self.process.standardInput = self.stdinPipe
        self.process.standardOutput = stdoutPipe
        self.process.standardError = stderrPipe
        self.stdout = Self.lines(of: stdoutPipe.fileHandleForReading)
        self.stderr = Self.lines(of: stderrPipe.fileHandleForReading)
        try self.process.run()
    }

    /// The process id (to signal it, or read its /proc entries).
    public var pid: Int32 { self.process.processIdentifier }

    /// Writes `text` to the process's stdin.
    public func write(_ text: String) {
        self.stdinPipe.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Closes the process's stdin (EOF).
    public func closeInput() {
        try? self.stdinPipe.fileHandleForWriting.close()
    }

    /// Sends a signal (SIGTERM by default).
    public func signal(_ signal: Int32 = SIGTERM) {
        kill(self.pid, signal)
    }

    /// Waits for the process to exit and returns its status. A cancelled wait (a test out of time) kills
    /// the process, so a stuck child turns into a failed test rather than a hung test run.
    public func exitCode() async -> Int32 {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    self.process.waitUntilExit()
                    continuation.resume(returning: self.process.terminationStatus)
                }
                thread.start()
            }
        } onCancel: {
            self.signal(SIGKILL)
        }
    }

    /// Every remaining line of a stream.
    public static func collect(_ lines: AsyncStream<String>) async -> [String] {
        var all: [String] = []
        for await line in lines { all.append(line) }
        return all
    }

    /// Reads a pipe on a thread of its own and yields it line by line.
    private static func lines(of handle: FileHandle) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
            continuation.finish()
        }
        thread.start()
        return stream
    }

    deinit {
        if self.process.isRunning { self.process.terminate() }
    }
}

/// `chat serve --port 0 …` running as a process, with the URL it printed.
public struct ServeProcess: Sendable {
    /// The process.
    public let process: ChatProcess
    /// The URL from its `listening on` line.
    public let url: String
    /// The line it printed.
    public let listeningLine: String

    /// Starts `chat serve --port PORT` (any free port by default) with `arguments` and waits for its
    /// `listening on` line.
    public static func start(_ arguments: [String] = [], port: Int = 0) async throws -> ServeProcess {
        let process = try ChatProcess(["serve", "--port", "\(port)"] + arguments)
        var lines = process.stdout.makeAsyncIterator()
        guard let line = await lines.next(), line.hasPrefix("listening on ") else {
            let errors = await ChatProcess.collect(process.stderr)
            throw TestServerError(description: "chat serve did not start: \(errors.joined(separator: "\n"))")
        }
        return ServeProcess(process: process, url: String(line.dropFirst("listening on ".count)), listeningLine: line)
    }

    /// The port it listens on.
    public var port: Int {
        Int(self.url.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
    }

    /// SIGTERM, then the exit status.
    public func stop() async -> Int32 {
        self.process.signal(SIGTERM)
        return await self.process.exitCode()
    }
}
