public import ChatProtocol
import ChatTransport
import Foundation
import NIOCore
import NIOWebSocket
import Synchronization

/// An open chat connection: the server's welcome, the frames that follow, and a way to send.
///
/// Created by `ChatClient.withSession`, which also closes it.
public final class ChatSession: Sendable {
    /// The server's first frame: who this connection is and where the room stands.
    public let welcome: Welcome
    /// Everything the server sends after `welcome`, in order. It ends when the connection ends: normally
    /// after this side closed, with a `ChatClientError` when the server closed or the connection was lost.
    public let events: AsyncThrowingStream<ServerFrame, any Error>
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let lifecycle: ClientLifecycle

    init(
        welcome: Welcome,
        events: AsyncThrowingStream<ServerFrame, any Error>,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        lifecycle: ClientLifecycle
    ) {
        self.welcome = welcome
        self.events = events
        self.outbound = outbound
        self.lifecycle = lifecycle
    }

    /// Sends a frame (a message or a nick change).
    public func send(_ frame: ClientFrame) async throws {
        try await Self.asConnectionLoss { try await self.outbound.write(Self.frame(frame)) }
    }

    /// Sends frames in order with one flush: many small messages, one system call.
    public func send(contentsOf frames: [ClientFrame]) async throws {
        try await Self.asConnectionLoss { try await self.outbound.write(contentsOf: frames.map(Self.frame)) }
    }

    /// A write that fails because the connection went away (closed channel, reset, broken pipe) is a lost
    /// connection, which callers retry — not an unknown error that ends them.
    private static func asConnectionLoss(_ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as CancellationError {
            throw error
        } catch {
            throw ChatClientError.connectionLost(NetworkErrorText.describe(error))
        }
    }

    private static func frame(_ frame: ClientFrame) -> WebSocketFrame {
        var random = UserSpaceRandom()
        return WebSocketFrame(fin: true, opcode: .text, maskKey: .random(using: &random), data: frame.encode())
    }

    /// Whether this side started the close handshake (`close()`), so the end of `events` is the end asked for.
    var closedByThisSide: Bool {
        self.lifecycle.withMachine { $0.sentClose }
    }

    /// Starts the close handshake (1000); the connection ends when the server answers.
    func close() async {
        guard case .sendClose(let code, _) = self.lifecycle.withMachine({ $0.closeRequested(.normalClosure) })
        else { return }
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        try? await self.outbound.write(
            WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        )
    }
}
