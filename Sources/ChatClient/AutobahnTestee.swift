import ChatTransport
import NIOCore
import NIOWebSocket

/// The client side of the Autobahn|Testsuite (its fuzzing server, `wstest -m fuzzingserver`): an echo
/// client on exactly the engine `tail` and `send` use — `WebSocketConnector` for the handshake,
/// `ClientReader` for pings, fragments, UTF-8 and the close handshake — so the suite's report is about
/// that engine, not a copy of it.
///
/// The suite's client protocol: `/getCaseCount` sends the number of cases as one text message; each
/// `/runCase?case=N&agent=A` sends what the case does and expects every text and binary message back,
/// verbatim; `/updateReports?agent=A` writes the reports.
package enum AutobahnTestee {
    /// Runs every case of the suite at `host:port` as `agent`; returns how many cases there were.
    package static func run(host: String, port: Int, agent: String) async throws -> Int {
        let agent = ClientConfiguration.percentEncoded(agent)
        var count: Int?
        try await Self.connection(host: host, port: port, target: "/getCaseCount") { message in
            if case .text(let text) = message { count = Int(String(buffer: text)) }
        }
        guard let count else {
            throw ChatClientError.protocolViolation("the fuzzing server did not say how many cases it has")
        }
        for index in 0..<count {
            // A case that ends the connection in any way (that is what many of them test) is done.
            try? await Self.connection(host: host, port: port, target: "/runCase?case=\(index + 1)&agent=\(agent)") {
                _ in
            }
        }
        try? await Self.connection(host: host, port: port, target: "/updateReports?agent=\(agent)") { _ in }
        return count
    }

    /// One connection: every message is handed to `observe` and echoed, until the connection ends.
    private static func connection(
        host: String,
        port: Int,
        target: String,
        observe: (ClientReader.Message) -> Void
    ) async throws {
        let channel = try await WebSocketConnector.connect(host: host, port: port, target: target)
        try await channel.executeThenClose { inbound, outbound in
            do {
                try await ClientReader.read(inbound, outbound: outbound, lifecycle: ClientLifecycle()) { message in
                    observe(message)
                    let (opcode, data): (WebSocketOpcode, ByteBuffer) =
                        switch message {
                        case .text(let data): (.text, data)
                        case .binary(let data): (.binary, data)
                        }
                    try await outbound.write(WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data))
                }
            } catch let error as ChatClientError where error.kind == .disconnected && error.code != nil {
                // How every case ends: the server closes once it has seen what it wanted.
            }
        }
    }
}
