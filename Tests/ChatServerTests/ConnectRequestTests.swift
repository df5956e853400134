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
        (
            "/ws?sinceTime=2025-11-25T15:03:05.123%2B01:00",
            ConnectRequest(room: "lobby", sinceTime: Timestamp(millisecondsSince1970: 1_764_079_385_123))
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

    @Test(arguments: [
        "/ws?name=", "/ws?name=%01x", "/ws?since=-1", "/ws?since=abc", "/ws?history=-3",
        "/ws?sinceTime=1h", "/ws?sinceTime=2025-11-25T15:03:05",
    ])
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
        var configuration = ClientConfiguration(url: url, name: "al ice&✓", since: 4, epoch: "e", history: 10)
        configuration.sinceTime = Timestamp(millisecondsSince1970: 1_764_079_385_123)
        #expect(
            configuration.requestTarget
                == "/ws/ops?token=t&name=al%20ice%26%E2%9C%93&since=4&epoch=e&sinceTime=2025-11-25T14%3A03%3A05.123Z&history=10"
        )
        #expect(ClientConfiguration(url: url).requestTarget == "/ws/ops?token=t")
        let request = ConnectRequest.parse(uri: configuration.requestTarget)
        var expected = ConnectRequest(
            room: "ops",
            name: "al ice&✓",
            since: 4,
            epoch: "e",
            sinceTime: configuration.sinceTime,
            history: 10
        )
        expected.token = "t"
        #expect(request == .success(expected))
    }
}
