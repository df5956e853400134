import ChatProtocol
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket

/// Serving a connection once its pipeline decided what it is: a chat member, an echo, or an HTTP answer.
extension ChatServer {
    func serveHTTP(
        _ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        head recordedHead: HTTPRequestHead?,
        route: Route?,
        refusal: String?
    ) async throws {
        try await channel.executeThenClose { inbound, outbound in
            // A refused upgrade arrives without its head (see RequestHeadRecorder); others bring it inline.
            var head = recordedHead
            if head == nil {
                for try await part in inbound {
                    if case .head(let inlineHead) = part {
                        head = inlineHead
                        break
                    }
                }
            }
            guard let head else { return }
            let metrics: (() -> String)? = self.hub.metrics.isExposed ? { self.renderMetrics() } : nil
            let route = route ?? Route(head.uri, echoPath: self.configuration.echoPath)
            // Read only for a request the token rule lets through: nobody else makes the database work.
            let policy = self.configuration.accessPolicy
            let allowed = policy.check(head, queryToken: ConnectRequest.queryToken(head.uri)) == nil
            let rooms = route == .plain(.rooms) && allowed ? await self.hub.log.roomList(self.hub) : nil
            let answer = HTTPResponder.response(
                for: head,
                route: route,
                policy: policy,
                unhealthy: refusal ?? self.hub.log.unhealthiness,
                metrics: metrics,
                rooms: rooms
            )
            // Every response says `Connection: close`, so there is one request per connection.
            try await HTTPResponder.write(answer, headOnly: head.method == .HEAD, to: outbound)
        }
    }

    /// `/metrics`: the levels as they are now, then the backend's exposition.
    private func renderMetrics() -> String {
        let levels = self.hub.levels
        return self.hub.metrics.render(
            connections: self.channels.count,
            rooms: levels.rooms,
            historyMessages: levels.history,
            backlogBytes: self.budget.usedBytes
        )
    }

    /// For a resume (`since`) or a `sinceTime` older than the room's history: what the store still has,
    /// within `maxReadBackBytes`. Nothing when the log keeps no more than the history, or when the history
    /// suffices; nothing, too, when reading fails (the client is then told it was not recovered, as
    /// without a store).
    private func readBack(
        for request: ConnectRequest
    ) async -> (
        earlier: [Room.StoredMessage], stored: Room.StoredSince?
    ) {
        let log = self.hub.log
        guard log.readsBack, let missing = self.hub.missing(for: request) else { return ([], nil) }
        let room = request.room
        let maxBytes = self.configuration.maxReadBackBytes
        do {
            switch missing {
            case .seqs(let seqs):
                return (try await log.messages(room: room, seqs: seqs, maxBytes: maxBytes), nil)
            case .time(let time, let through, let historyStart):
                guard let first = try await log.firstSeq(room: room, atOrAfter: time) else {
                    return ([], Room.StoredSince(firstSeq: nil, messages: []))
                }
                // From the history's start on, the room has the messages itself.
                let messages =
                    first < historyStart
                    ? try await log.messages(room: room, seqs: first...max(first, through), maxBytes: maxBytes)
                    : []
                return ([], Room.StoredSince(firstSeq: first, messages: messages))
            }
        } catch {
            self.logger.error(
                "cannot read history back from the store",
                metadata: ["chat.store": "\(log.location)", "chat.error": "\(log.describe(error))"]
            )
            return ([], nil)
        }
    }

    /// `--echo-path`: every message comes back verbatim — text as text (if it is UTF-8, else 1007),
    /// binary as binary — with the same limits, pings and close handshake as a chat connection.
    func serveEcho(_ connection: ServerConnection) {
        connection.attach(
            ServerConnection.Application(
                onText: { payload in
                    guard String(validating: payload.readableBytesView, as: UTF8.self) != nil else {
                        connection.requestClose(.dataInconsistentWithMessage, reason: "invalid UTF-8")
                        return
                    }
                    connection.send(payload, opcode: .text)
                },
                onBinary: { payload in connection.send(payload, opcode: .binary) },
                onClosed: { _ in }
            )
        )
    }

    /// Joins the client to its room and hands its frames to a session; the connection's handler does the
    /// rest on its event loop, and leaves the room when the channel closes. No task waits per connection.
    func serveWebSocket(
        _ channel: any Channel,
        connection: ServerConnection,
        request: ConnectRequest,
        claimed: Claim?
    ) async {
        self.hub.metrics.connectionsTotal.increment()
        if self.hub.log.admitsBeforeUpgrade, claimed == nil {
            // Admission decides before the upgrade; an upgrade without a member is a bug, not a client's.
            connection.requestClose(.unexpectedServerError, reason: "not admitted")
            return
        }
        // What to read is decided before the read, the replay after it: when the history moved past the
        // request meanwhile (a burst delivered between the two), read again — a few times, then join with
        // what there is (the client is told what it missed).
        var attempt = 0
        var joined: Claim?
        while joined == nil {
            let readBack = await self.readBack(for: request)
            attempt += 1
            joined = self.hub.join(
                connection,
                request: request,
                earlier: readBack.earlier,
                stored: readBack.stored,
                claimed: claimed,
                readAgain: attempt < 3
            )
        }
        guard let (user, box) = joined else { return }
        let logger = self.logger
        // Built when something is logged: an idle connection keeps no metadata of its own.
        let metadata: @Sendable () -> Logger.Metadata = {
            [
                "chat.peer": ServerConnection.peer(channel),
                "chat.room": "\(box.name)", "chat.user": "\(user.name)",
            ]
        }
        logger.info("connection opened", metadata: metadata())
        let started = ContinuousClock.now
        let session = ServerSession(
            hub: self.hub,
            box: box,
            userID: user.id,
            connection: connection,
            configuration: self.configuration
        )
        let hub = self.hub
        connection.attach(
            ServerConnection.Application(
                onText: session.received,
                onBinary: nil,
                onClosed: { code in
                    hub.leave(box, userID: user.id)
                    hub.log.release(uid: user.id)
                    let code = code.map { "\(UInt16(webSocketErrorCode: $0))" } ?? "1006"
                    logger.info(
                        "connection closed",
                        metadata: metadata().merging(
                            ["chat.close_code": "\(code)", "chat.duration": "\(ContinuousClock.now - started)"]
                        ) { $1 }
                    )
                },
                // One capture, so no closure context of its own per connection.
                onBehind: { behind in session.memberIsBehind(behind) }
            )
        )
    }
}
