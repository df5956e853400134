import ChatProtocol

/// Every path the server answers, told apart once from a request's target: the upgrader decides on it
/// (`UpgradeDecision`), and `HTTPResponder` answers what was not upgraded.
enum Route: Sendable, Equatable {
    /// The browser page's files: the page itself (`/`, `/r/ROOM`), its script's modules, its stylesheet.
    enum PageFile: Sendable, Equatable {
        case html
        case javascript(WebPage.Script)
        case css
    }

    /// The routes that are not WebSocket endpoints: all of them read-only (GET and HEAD).
    enum Plain: Sendable, Equatable {
        case page(PageFile)
        case metrics
        case healthz
        /// For the page: whether its token (if any) would be accepted, since a refused WebSocket says nothing.
        case access
        /// The rooms there are (`RoomList`), under the same token rule as the chat endpoints.
        case rooms
        case favicon
    }

    case plain(Plain)
    /// The raw echo endpoint (`--echo-path`).
    case echo
    /// A chat endpoint, with its parameters — or why they are wrong (400).
    case chat(Result<ConnectRequest, ConnectRequest.Rejection>)
    case notFound

    /// The route of request target `uri` (path and query); `echoPath` is the server's echo endpoint, if any.
    /// Plain routes come first: an echo path cannot hide the page, `/metrics` or `/healthz`.
    init(_ uri: String, echoPath: String?) {
        let path = ConnectRequest.split(uri).path
        switch path {
        case "/": self = .plain(.page(.html))
        case _ where path.hasPrefix("/r/") && RoomName.isValid(path.dropFirst(3)): self = .plain(.page(.html))
        case _ where WebPage.Script(path: path) != nil: self = .plain(.page(.javascript(WebPage.Script(path: path)!)))
        case "/app.css": self = .plain(.page(.css))
        case "/metrics": self = .plain(.metrics)
        case "/healthz": self = .plain(.healthz)
        case "/access": self = .plain(.access)
        case "/rooms": self = .plain(.rooms)
        case "/favicon.ico": self = .plain(.favicon)
        case _ where echoPath.map { path == $0 } ?? false: self = .echo
        default: self = ConnectRequest.parse(uri: uri).map(Route.chat) ?? .notFound
        }
    }
}
