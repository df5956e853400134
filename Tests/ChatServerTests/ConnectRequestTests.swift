import ChatProtocol
import NIOHTTP1
import Testing

@testable import ChatClient
@testable import ChatServer

struct ConnectRequestTests {
    @Test(arguments: [
        ("/ws", ConnectRequest(room: "lobby")),
        ("/ws/", ConnectRequest(room: "lobby")),
        ("/ws/ops", ConnectRequest(room: "ops")),
        ("/ws/ops?name=al%20ice", ConnectRequest(room: "ops", name: "al ice")),
        (
            "/ws?name=bob+smith&since=41&epoch=e1&history=10",
            ConnectRequest(room: "lobby", name: "bob smith", since: 41, epoch: "e1", history: 10)
        ),
        ("/ws?name=%E2%9C%93&unknown=1", ConnectRequest(room: "lobby", name: "✓")),
        ("/ws?name=%20%20eve%20", ConnectRequest(room: "lobby", name: "eve")),
    ])
    func chatPathsParse(_ uri: String, _ expected: ConnectRequest) {
        #expect(ConnectRequest.parse(uri: uri) == .success(expected))
    }

    @Test(arguments: ["/", "/healthz", "/wsx", "/ws/a/b", "/ws/bad%20room", "/ws/" + String(repeating: "r", count: 65)])
    func otherPathsAreNotChatEndpoints(_ uri: String) {
        #expect(ConnectRequest.parse(uri: uri) == nil)
    }

    @Test(arguments: ["/ws?name=", "/ws?name=%01x", "/ws?since=-1", "/ws?since=abc", "/ws?history=-3"])
    func badParametersAreBadRequests(_ uri: String) throws {
        guard case .failure(let rejection)? = ConnectRequest.parse(uri: uri) else {
            Issue.record("expected a rejection for \(uri)")
            return
        }
        #expect(rejection.status == .badRequest)
    }

    /// The client encodes what the server decodes, percent-encoding included.
    @Test func theClientsRequestIsParsedAsItWasMeant() throws {
        let url = try ChatURL(parsing: "ws://h:1/ws/ops?token=t")
        let configuration = ClientConfiguration(url: url, name: "al ice&✓", since: 4, epoch: "e", history: 10)
        #expect(configuration.requestTarget == "/ws/ops?token=t&name=al%20ice%26%E2%9C%93&since=4&epoch=e&history=10")
        #expect(ClientConfiguration(url: url).requestTarget == "/ws/ops?token=t")
        let request = ConnectRequest.parse(uri: configuration.requestTarget)
        var expected = ConnectRequest(room: "ops", name: "al ice&✓", since: 4, epoch: "e", history: 10)
        expected.token = "t"
        #expect(request == .success(expected))
    }
}
