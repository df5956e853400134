import ArgumentParser
import ChatClient
import ChatTerminal
import Logging

/// `chat autobahn-testee`: the WebSocket client engine under the Autobahn|Testsuite's fuzzing server. A
/// test tool, so it is not in `chat --help`; README's testing section says how to run the suite.
struct AutobahnTesteeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autobahn-testee",
        abstract: "Echo every case of an Autobahn|Testsuite fuzzing server (a test tool).",
        shouldDisplay: false
    )

    @Argument(help: "The fuzzing server, as ws://HOST:PORT.")
    var url: String

    @Option(help: "The name the suite's report gives this client.")
    var agent = "chat"

    func validate() throws {
        guard Self.endpoint(self.url) != nil else {
            throw ValidationError("The fuzzing server's URL is ws://HOST:PORT.")
        }
    }

    func run() async throws {
        _ = bootstrapLogging(level: .error, label: "chat.autobahn")
        guard let (host, port) = Self.endpoint(self.url) else { return }
        try await withExitStatus {
            let cases = try await AutobahnTestee.run(host: host, port: port, agent: self.agent)
            StandardError.line("chat: ran \(cases) cases as agent \(self.agent); the suite wrote its reports")
        }
    }

    /// `ws://HOST:PORT` (a trailing `/` allowed; an IPv6 host in brackets).
    static func endpoint(_ url: String) -> (host: String, port: Int)? {
        guard url.hasPrefix("ws://") else { return nil }
        var rest = url.dropFirst(5)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return host.isEmpty ? nil : (String(host), port)
    }
}
