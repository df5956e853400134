public import ArgumentParser
import ChatClient
import ChatProtocol
import ChatTerminal
import Foundation
public import Logging

/// Options every client command shares.
struct ConnectionOptions: ParsableArguments {
    @Option(
        help:
            "The name to chat as; the server adds a suffix if it is taken (default: $CHAT_NAME, else $USER, else guest-xxxx)."
    )
    var name: String?

    @Option(
        name: .customLong("room"),
        help: "The room to use instead of the URL's (default: the URL's room, lobby for /ws); tail takes several."
    )
    var rooms: [String] = []

    @Option(
        help: ArgumentHelp(
            "A file whose first line is the server's token (default: $CHAT_TOKEN, else none).",
            valueName: "file"
        )
    )
    var tokenFile: String?

    @Option(
        help: ArgumentHelp(
            "For wss://, also trust the CA certificates in this PEM file (a private CA).",
            valueName: "file"
        )
    )
    var caFile: String?

    @Flag(help: "For wss://, do not check the server's certificate at all (a warning says so).")
    var insecure = false

    /// The URL used when none is given.
    static var defaultURL: String {
        ProcessInfo.processInfo.environment["CHAT_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "ws://127.0.0.1:8000/ws"
    }

    /// The client configuration for `url` (or the default URL) with these options applied: one room.
    func configuration(url: String?) throws(ChatClientError) -> ClientConfiguration {
        guard self.rooms.count <= 1 else {
            throw ChatClientError.badOption("--room is given once here; only tail follows several rooms")
        }
        return try self.configuration(url: url, room: self.rooms.first, warn: true)
    }

    /// One configuration per `--room` (the URL's room when none is given), for `tail`.
    func configurations(url: String?) throws(ChatClientError) -> [ClientConfiguration] {
        guard !self.rooms.isEmpty else { return [try self.configuration(url: url, room: nil, warn: true)] }
        var configurations: [ClientConfiguration] = []
        for room in self.rooms where !configurations.contains(where: { $0.url.room.rawValue == room }) {
            configurations.append(try self.configuration(url: url, room: room, warn: configurations.isEmpty))
        }
        return configurations
    }

    private func configuration(
        url: String?,
        room: String?,
        warn: Bool
    ) throws(ChatClientError) -> ClientConfiguration {
        var servers = try ChatURL.list(parsing: url ?? Self.defaultURL)
        if let room { servers = try servers.map { url throws(ChatClientError) in try url.with(room: room) } }
        var configuration = ClientConfiguration(url: servers[0], name: self.resolvedName)
        configuration.servers = servers
        configuration.tls = ClientTLS(caFile: self.caFile, insecure: self.insecure)
        if warn, self.insecure, servers.contains(where: \.secure) {
            StandardError.warn(
                "--insecure: the server's certificate is not checked; anyone in between can read and change the chat"
            )
        }
        do {
            configuration.token = try TokenFile.token(path: self.tokenFile, variable: "CHAT_TOKEN")
        } catch {
            throw ChatClientError.badOption("\(error)")
        }
        return configuration
    }

    private var resolvedName: String? {
        let environment = ProcessInfo.processInfo.environment
        for candidate in [self.name, environment["CHAT_NAME"], environment["USER"]] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        return nil  // the server picks guest-xxxx
    }
}

/// How a client command reconnects (`tail`, `send`).
struct ReconnectOptions: ParsableArguments {
    @Flag(help: "Do not reconnect after a lost connection; fail instead.")
    var noReconnect = false

    @Option(help: "Give up after this many reconnection attempts in a row (default: no limit).")
    var maxRetries: Int?

    func validate() throws {
        if let maxRetries = self.maxRetries, maxRetries < 0 {
            throw ValidationError("--max-retries must be 0 or more.")
        }
    }

    /// The policy these options ask for.
    var policy: ReconnectPolicy {
        if self.noReconnect { return .never }
        return ReconnectPolicy(maxRetries: self.maxRetries)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Logging on stderr at `level`; every command's logs go there, never to stdout.
func bootstrapLogging(level: Logger.Level, label: String, format: LogFormat = .text) -> Logger {
    LoggingSystem.bootstrap { label in
        switch format {
        case .json:
            return JSONLogHandler(label: label, level: level)
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
    return Logger(label: label)
}
