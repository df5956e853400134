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

    /// Reads frames until the connection ends: answers pings and closes, decodes the rest.
    private static func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        into continuation: AsyncThrowingStream<ServerFrame, any Error>.Continuation,
        lifecycle: ClientLifecycle,
        logger: Logger
    ) async {
        let decoder = JSONDecoder()
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text:
                    guard lifecycle.withMachine({ $0.receivedData(frame) }) == .deliver else { continue }
                    do {
                        let data = frame.unmaskedData
                        if let fast = data.withUnsafeReadableBytes(ServerFrame.decodeFast) {
                            continuation.yield(fast)
                            continue
                        }
                        continuation.yield(try decoder.decode(ServerFrame.self, from: Data(data.readableBytesView)))
                    } catch let unknown as ServerFrame.UnknownType {
                        // Newer servers may send frame types this client does not know: skip them.
                        logger.debug("skipping unknown frame type", metadata: ["chat.type": "\(unknown.type)"])
                    } catch {
                        continuation.finish(throwing: ChatClientError.protocolViolation("undecodable frame: \(error)"))
                        return
                    }
                case .ping:
                    guard lifecycle.withMachine({ $0.receivedPing() }) == .sendPong else { continue }
                    try await outbound.write(
                        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                    )
                case .connectionClose:
                    var data = frame.unmaskedData
                    let code = data.readWebSocketErrorCode()
                    let reason = data.readString(length: data.readableBytes) ?? ""
                    guard case .echoCloseAndFinish(let reply) = lifecycle.withMachine({ $0.receivedClose(code: code) })
                    else {
                        // The server answered the close this side started.
                        continuation.finish()
                        return
                    }
                    // Answer the server's close with its code, unless that code may not be sent (RFC 6455 §7.4).
                    var body = ByteBuffer()
                    if let reply { body.write(webSocketErrorCode: reply) }
                    try? await outbound.write(
                        WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: body)
                    )
                    continuation.finish(
                        throwing: ChatClientError.closedByServer(
                            code: code.map { Int(UInt16(webSocketErrorCode: $0)) } ?? 1005,
                            reason: TerminalSanitizer.sanitize(reason)
                        )
                    )
                    return
                default:
                    continue
                }
            }
            let weClosed = lifecycle.withMachine { $0.sentClose }
            continuation.finish(throwing: weClosed ? nil : ChatClientError.connectionLost("the server went away"))
        } catch {
            continuation.finish(throwing: ChatClientError.connectionLost("\(error)"))
        }
    }
}
