import NIOCore
import NIOWebSocket

/// What the server does with each text frame of a joined client.
struct ServerSession: Sendable {
    let hub: RoomHub
    let box: RoomHub.RoomBox
    let userID: String
    let connection: ServerConnection
    let configuration: ServerConfiguration

    /// Handles one text frame: validate, then post or rename; problems go back to this client only.
    func received(_ payload: ByteBuffer) {
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
            let size = text.utf8.count
            guard size <= self.configuration.maxMessageBytes else {
                self.reject(
                    ServerError(
                        code: ChatErrorCode.tooLarge,
                        message: "message is \(size) bytes; the limit is \(self.configuration.maxMessageBytes)",
                        id: id
                    )
                )
                return
            }
            self.hub.post(in: self.box, from: self.userID, id: id, text: text)
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
            self.hub.rename(in: self.box, userID: self.userID, to: name)
        }
    }

    private func reject(_ error: ServerError) {
        self.connection.send(ServerFrame.error(error).encode())
    }
}
