import ChatProtocol
import CoreMetrics
import NIOCore
import NIOWebSocket
import Synchronization

/// What the server does with each text frame of a joined client.
final class ServerSession: Sendable {
    let hub: RoomHub
    let box: RoomHub.RoomBox
    let userID: UserID
    let connection: ServerConnection
    let configuration: ServerConfiguration
    /// The connection's rate limit (which also refuses, in order, while the store is behind).
    private let limiter: Mutex<RateLimiter>

    init(
        hub: RoomHub,
        box: RoomHub.RoomBox,
        userID: UserID,
        connection: ServerConnection,
        configuration: ServerConfiguration
    ) {
        self.hub = hub
        self.box = box
        self.userID = userID
        self.connection = connection
        self.configuration = configuration
        self.limiter = Mutex(
            RateLimiter(
                rate: configuration.rateLimit,
                burst: configuration.burst,
                now: NIODeadline.now().uptimeNanoseconds
            )
        )
    }

    private static let typingGap = UInt64(Typing.relayInterval.components.seconds) * 1_000_000_000
    /// When this connection's last `typing` was relayed (uptime nanoseconds).
    private let lastTyping = Mutex<UInt64?>(nil)

    /// Handles one text frame: validate, then post or rename; problems go back to this client only.
    func received(_ payload: ByteBuffer) {
        self.hub.metrics.bytesReceived.increment(by: Int64(payload.readableBytes))
        guard let text = String(validating: payload.readableBytesView, as: UTF8.self) else {
            // RFC 6455 §8.1: a text frame that is not UTF-8 fails the connection with 1007.
            self.connection.requestClose(.dataInconsistentWithMessage, reason: "invalid UTF-8", dropPending: false)
            return
        }
        let frame: ClientFrame
        do {
            frame = try ClientFrame.decode(text)
        } catch {
            self.reject(error)
            return
        }
        switch frame {
        case .message(let id, let text):
            guard self.admit(id: id, text: text) else { return }
            if self.hub.post(in: self.box, from: self.userID, id: id, text: text) {
                // A member fell behind: read nothing more from this client until it caught up (TCP
                // backpressure to the sender), rather than drop the member or hold without bound.
                self.connection.pauseReading()
            }
        case .direct(let id, let to, let text):
            guard self.admit(id: id, text: text) else { return }
            if case .elsewhere(let direct) = self.hub.direct(
                in: self.box,
                from: self.userID,
                id: id,
                to: to,
                text: text
            ) {
                self.hub.log.carry(direct, clientID: id, from: self.connection)
            }
        case .typing:
            let now = NIODeadline.now().uptimeNanoseconds
            // Relayed at most once per `Typing.relayInterval` per connection, whatever the client sends.
            let due = self.lastTyping.withLock { last in
                guard last.map({ now - $0 >= Self.typingGap }) ?? true else { return false }
                last = now
                return true
            }
            guard due, let user = self.hub.typing(in: self.box, userID: self.userID) else { return }
            self.hub.log.announceTyping(of: user, in: self.box.name)
        case .nick(let name):
            guard let name = UserName.normalized(name) else {
                self.reject(
                    ServerError(
                        code: ChatErrorCode.invalidName,
                        message: "a name has 1 to \(UserName.maxLength) characters and no control characters"
                    )
                )
                return
            }
            // In a cluster the database makes the name unique on every node first.
            self.hub.log.rename(in: self.box, uid: self.userID, to: name, hub: self.hub)
        }
    }

    /// Whether a message (to the room or direct) may go: within the rate limit and the size limit. When
    /// not, the client was told why.
    private func admit(id: MessageID?, text: String) -> Bool {
        let overloaded = self.hub.isStoreBehind
        if let wait = self.limiter.withLock({
            $0.admit(id: id, now: NIODeadline.now().uptimeNanoseconds, overloaded: overloaded)
        }) {
            let seconds = wait.inSeconds
            let reason =
                overloaded || self.configuration.rateLimit == 0
                ? "the server cannot store messages this fast right now"
                : "over \(self.configuration.rateLimit.formatted) messages a second"
            self.reject(
                ServerError(
                    code: ChatErrorCode.rateLimited,
                    message: "\(reason); resend after retryAfter",
                    id: id,
                    retryAfter: (seconds * 1000).rounded(.up) / 1000
                )
            )
            return false
        }
        let size = text.utf8.count
        guard size <= self.configuration.maxMessageBytes else {
            self.reject(
                ServerError(
                    code: ChatErrorCode.tooLarge,
                    message: "message is \(size) bytes; the limit is \(self.configuration.maxMessageBytes)",
                    id: id
                )
            )
            return false
        }
        return true
    }

    /// The connection's backlog passed its bound (or came back under it): the room waits for it meanwhile.
    func memberIsBehind(_ behind: Bool) {
        self.hub.member(self.userID, in: self.box, isBehind: behind)
    }

    private func reject(_ error: ServerError) {
        self.hub.reject(error, to: self.connection)
    }
}

extension Double {
    /// `1000`, `0.5`: a rate as people write it.
    fileprivate var formatted: String {
        self == self.rounded() ? String(Int64(self)) : String(self)
    }
}
