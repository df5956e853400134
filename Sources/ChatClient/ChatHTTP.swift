public import ChatProtocol
public import ChatTransport
public import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The server's plain HTTP side, for what is not a chat connection: `GET /rooms`.
public enum ChatHTTP {
    /// The most of a body read: a room list of `RoomList.limit` rooms fits with room to spare.
    static let maxBodyBytes = 4 << 20

    /// `GET /rooms` on the server of `configuration` (next to its `/ws`, behind the same token).
    public static func rooms(
        _ configuration: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared
    ) async throws -> RoomList {
        let url = configuration.url
        let path = String(url.basePath.dropLast(url.basePath.hasSuffix("/ws") ? 3 : 0)) + "/rooms"
        let (status, body) = try await Self.get(path, configuration: configuration, eventLoopGroup: eventLoopGroup)
        let scheme = url.secure ? "https" : "http"
        let endpoint = "\(scheme)://\(url.authority)\(path)"
        guard status == 200 else {
            let reason = status == 404 ? "this server has no room list (is it older?)" : String(body.prefix(200))
            throw ChatClientError.requestRefused(endpoint, status: status, reason: TerminalSanitizer.sanitize(reason))
        }
        do {
            return try RoomList(json: body)
        } catch {
            throw ChatClientError.protocolViolation("\(endpoint) did not answer with a room list")
        }
    }

    /// One request on a connection of its own (the server closes it after the answer); the status and body.
    static func get(
        _ path: String,
        configuration: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup
    ) async throws -> (status: Int, body: String) {
        let url = configuration.url
        let authority = url.authority
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: authority)
        headers.add(name: "User-Agent", value: "chat/\(ChatVersion.current)")
        if let token = configuration.token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let tlsContext = url.secure ? try configuration.tls.context() : nil
        let serverHostname = ClientTLS.serverHostname(for: url.host)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ChatClientError.unreachable(authority, NetworkErrorText.describe(error))
        }
        let timedOut = Atomic(false)
        // The answer gets as long as the connection did: a server that accepts and says nothing is given up on.
        let timer = channel.channel.eventLoop.scheduleTask(in: TimeAmount(configuration.connectTimeout)) {
            timedOut.store(true, ordering: .relaxed)
            channel.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
                var status = 0
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let response):
                        status = Int(response.status.code)
                    case .body(var chunk):
                        guard body.readableBytes + chunk.readableBytes <= Self.maxBodyBytes else {
                            throw ChatClientError.protocolViolation("the answer of \(authority)\(path) is too large")
                        }
                        body.writeBuffer(&chunk)
                    case .end:
                        return (status, String(buffer: body))
                    }
                }
                throw ChatClientError.connectionLost("\(authority) closed the connection before answering")
            }
        } catch _ where timedOut.load(ordering: .relaxed) {
            throw ChatClientError.connectionLost(
                "\(authority) did not answer GET \(path) within \(configuration.connectTimeout.formattedSeconds)"
            )
        } catch let error as ChatClientError {
            throw error
        } catch let error where TLSErrorText.isVerificationFailure(error) {
            throw ChatClientError.untrusted("https://\(authority)", TLSErrorText.describe(error))
        } catch {
            throw ChatClientError.connectionLost(NetworkErrorText.describe(error))
        }
    }
}
