import ChatProtocol
public import ChatTransport
import Foundation
public import Logging
public import NIOCore
import NIOPosix
import NIOWebSocket

/// Connects to a chat server and runs a session on the connection.
public enum ChatClient {
    /// Connects, waits for `welcome`, runs `body` with the session, then closes the connection cleanly.
    ///
    /// - Throws: `ChatClientError` when the connection cannot be made or the server refuses it, and
    ///   whatever `body` throws.
    public static func withSession<Result: Sendable>(
        _ configuration: ClientConfiguration,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = ChatEventLoops.shared,
        body: (ChatSession) async throws -> Result
    ) async throws -> Result {
        let channel = try await WebSocketConnector.connect(
            host: configuration.url.host,
            port: configuration.url.port,
            target: configuration.requestTarget,
            maxFrameBytes: configuration.maxFrameBytes,
            connectTimeout: configuration.connectTimeout,
            token: configuration.token,
            tls: configuration.url.secure ? configuration.tls : nil,
            eventLoopGroup: eventLoopGroup
        )
        return try await channel.executeThenClose { inbound, outbound in
            let (stream, continuation) = AsyncThrowingStream<ServerFrame, any Error>.makeStream()
            let lifecycle = ClientLifecycle()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await Self.read(
                        inbound,
                        outbound: outbound,
                        into: continuation,
                        lifecycle: lifecycle,
                        logger: logger
                    )
                }
                // The welcome comes first; the same stream then carries the rest to `body`.
                var iterator = stream.makeAsyncIterator()
                let welcome: Welcome
                do {
                    switch try await iterator.next() {
                    case .welcome(let value)?:
                        welcome = value
                    case .error(let error)?:
                        throw ChatClientError.protocolViolation("the server sent an error before welcome: \(error)")
                    case let other?:
                        throw ChatClientError.protocolViolation("expected welcome, got '\(other.type)'")
                    case nil:
                        throw ChatClientError.connectionLost("closed before the welcome")
                    }
                } catch {
                    group.cancelAll()
                    throw error
                }
                let session = ChatSession(welcome: welcome, events: stream, outbound: outbound, lifecycle: lifecycle)
                let result: Result
                do {
                    result = try await body(session)
                } catch {
                    group.cancelAll()
                    throw error
                }
                // Close properly: send 1000 and give the server a bounded time to answer.
                await session.close()
                group.addTask { try? await Task.sleep(for: configuration.closeTimeout) }
                _ = try? await group.next()
                group.cancelAll()
                return result
            }
        }
    }

    /// Reads until the connection ends (`ClientReader`) and decodes each text message as a server frame.
    private static func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        into continuation: AsyncThrowingStream<ServerFrame, any Error>.Continuation,
        lifecycle: ClientLifecycle,
        logger: Logger
    ) async {
        let decoder = JSONDecoder()
        do {
            try await ClientReader.read(inbound, outbound: outbound, lifecycle: lifecycle) { message in
                guard case .text(let data) = message else { return }
                do {
                    if let fast = data.withUnsafeReadableBytes(ServerFrame.decodeFast) {
                        continuation.yield(fast)
                        return
                    }
                    continuation.yield(try decoder.decode(ServerFrame.self, from: Data(data.readableBytesView)))
                } catch let unknown as ServerFrame.UnknownType {
                    // Newer servers may send frame types this client does not know: skip them.
                    logger.debug("skipping unknown frame type", metadata: ["chat.type": "\(unknown.type)"])
                } catch {
                    throw ChatClientError.protocolViolation("undecodable frame: \(error)")
                }
            }
            continuation.finish()
        } catch {
            continuation.finish(throwing: error)
        }
    }
}
