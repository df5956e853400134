import NIOHTTP1

/// What a WebSocket upgrade request is, decided once from its head: the upgrader asks before the `101`,
/// and the pipeline it then builds takes the same answer rather than parsing the request again.
enum UpgradeDecision: Sendable {
    /// A member of the room the request names.
    case chat(ConnectRequest)
    /// The raw echo endpoint (`--echo-path`).
    case echo
    /// Answered over HTTP instead — 400, 401, 403, 404, 503 — by `HTTPResponder`, which says why.
    case refuse

    /// The upgrade was built without a decision: NIO calls `shouldUpgrade` first, so this never happens;
    /// if it did, the connection would just close.
    struct Undecided: Error {}

    /// Only a real HTTP/1.1 GET handshake to a valid chat path with valid parameters (or the echo path),
    /// with the token and an allowed origin, upgrades; and a cluster node only while it reaches its
    /// database.
    init(_ head: HTTPRequestHead, route: Route, configuration: ServerConfiguration, healthy: Bool) {
        guard UpgradeRequirements.refusal(for: head) == nil else {
            self = .refuse
            return
        }
        switch route {
        case .echo:
            let denied = configuration.accessPolicy.check(head, queryToken: ConnectRequest.queryToken(head.uri))
            self = denied == nil ? .echo : .refuse
        case .chat(.success(let request))
        where configuration.accessPolicy.check(head, queryToken: request.token) == nil && healthy:
            self = .chat(request)
        default:
            self = .refuse
        }
    }
}
