import ChatProtocol
import NIOHTTP1
import Testing

@testable import ChatServer

/// The one table of what the server answers: every path told apart once, for the upgrader and for HTTP.
struct RouteTests {
    @Test(arguments: [
        ("/", Route.plain(.page(.html))),
        ("/r/ops", .plain(.page(.html))),
        ("/app.js", .plain(.page(.javascript(.app)))),
        ("/rooms.js", .plain(.page(.javascript(.rooms)))),
        ("/app.css?v=1", .plain(.page(.css))),
        ("/metrics", .plain(.metrics)),
        ("/healthz", .plain(.healthz)),
        ("/access?token=t", .plain(.access)),
        ("/rooms", .plain(.rooms)),
        ("/rooms?token=t", .plain(.rooms)),
        ("/favicon.ico", .plain(.favicon)),
        ("/echo", .echo),
        ("/nope", .notFound),
        ("/r/", .notFound),
        ("/r/bad room", .notFound),
    ])
    func pathsAreToldApartOnce(_ uri: String, _ route: Route) {
        #expect(Route(uri, echoPath: "/echo") == route)
    }

    @Test func chatPathsCarryTheirParametersOrWhyTheyAreWrong() {
        guard case .chat(.success(let request)) = Route("/ws/ops?name=al%20ice&since=4", echoPath: nil) else {
            Issue.record("not a chat route")
            return
        }
        #expect(request.room == "ops" && request.name == "al ice" && request.since == 4)
        guard case .chat(.failure(let rejection)) = Route("/ws?since=x", echoPath: nil) else {
            Issue.record("not a refused chat route")
            return
        }
        #expect(rejection.status == .badRequest)
    }

    @Test func anEchoPathCannotHideAPlainRoute() {
        #expect(Route("/healthz", echoPath: "/healthz") == .plain(.healthz))
        #expect(Route("/ws", echoPath: nil) != .echo)
    }
}
