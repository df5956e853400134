import Foundation
public import NIOCore

/// Every frame a client sends to a server (PROTOCOL.md, "Client frames").
public enum ClientFrame: Sendable, Hashable {
    /// Post `text` to the room; with an `id` the server answers with an `ack`.
    case message(id: MessageID?, text: String)
    /// Send `text` to the member named `to` only (PROTOCOL.md, "direct"); with an `id` the server
    /// answers with a seq-less `ack`.
    case direct(id: MessageID?, to: String, text: String)
    /// Change this connection's name.
    case nick(name: String)
    /// This member is composing a message (sent at most every `Typing.interval`).
    case typing

    /// The longest message id a server accepts.
    public static let maxIDLength = 128
}

extension ClientFrame {
    /// Encodes the frame as compact JSON.
    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var writer = JSONWriter(buffer: allocator.buffer(capacity: 64))
        writer.beginObject()
        switch self {
        case .message(let id, let text):
            writer.field("type", "message")
            writer.field("id", id)
            writer.field("text", text)
        case .direct(let id, let to, let text):
            writer.field("type", "message")
            writer.field("id", id)
            writer.field("to", to)
            writer.field("text", text)
        case .nick(let name):
            writer.field("type", "nick")
            writer.field("name", name)
        case .typing:
            writer.field("type", "typing")
        }
        writer.endObject()
        return writer.buffer
    }

    /// Decodes the text of a WebSocket text frame.
    ///
    /// A frame whose first non-blank character is `{` must be a valid client object; any other text is
    /// the text of a message, so that raw WebSocket clients can chat too.
    /// - Throws: a `ServerError` with code `bad_request`, ready to send back.
    public static func decode(_ text: String) throws(ServerError) -> ClientFrame {
        try Self.decode(text, fastPath: true)
    }

    /// The same, with `fastPath: false` always through `JSONDecoder` — for the fuzz target that holds the
    /// two paths to the same answer.
    static func decode(_ text: String, fastPath: Bool) throws(ServerError) -> ClientFrame {
        guard let first = text.utf8.first(where: { !Self.isJSONWhitespace($0) }) else {
            if text.isEmpty { throw ServerError(code: ChatErrorCode.badRequest, message: "empty message") }
            return .message(id: nil, text: text)
        }
        guard first == UInt8(ascii: "{") else {
            return .message(id: nil, text: text)
        }
        if fastPath, let raw = RawClientFrame(fast: text) { return try raw.validated() }
        let raw: RawClientFrame
        do {
            raw = try JSONDecoder().decode(RawClientFrame.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw ServerError(code: ChatErrorCode.badRequest, message: Self.describe(error))
        } catch {
            throw ServerError(code: ChatErrorCode.badRequest, message: "malformed JSON")
        }
        return try raw.validated()
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            if let key = context.codingPath.last?.stringValue {
                return "'\(key)' must be a string"
            }
            return "expected a JSON object"
        case .keyNotFound(let key, _):
            return "missing '\(key.stringValue)'"
        case .dataCorrupted:
            return "malformed JSON"
        @unknown default:
            return "malformed JSON"
        }
    }
}

/// The client object as it arrives, before validation.
private struct RawClientFrame: Decodable {
    var type: String?
    var id: String?
    var text: String?
    var name: String?
    var to: String?

    func validated() throws(ServerError) -> ClientFrame {
        func bad(_ message: String) -> ServerError {
            ServerError(code: ChatErrorCode.badRequest, message: message, id: self.id.map(MessageID.init(rawValue:)))
        }
        guard let type = self.type else { throw bad("missing 'type'") }
        switch type {
        case "message":
            if let id = self.id, id.isEmpty || id.count > ClientFrame.maxIDLength {
                throw ServerError(
                    code: ChatErrorCode.badRequest,
                    message: "'id' must be 1 to \(ClientFrame.maxIDLength) characters"
                )
            }
            guard let text = self.text else { throw bad("a message needs 'text'") }
            guard !text.isEmpty else { throw bad("'text' is empty") }
            let id = self.id.map(MessageID.init(rawValue:))
            if let to = self.to {
                guard !to.isEmpty else { throw bad("'to' is empty") }
                return .direct(id: id, to: to, text: text)
            }
            return .message(id: id, text: text)
        case "nick":
            guard let name = self.name else { throw bad("a nick needs 'name'") }
            return .nick(name: name)
        case "typing":
            return .typing
        default:
            throw bad("unknown type '\(type)'; expected 'message', 'nick' or 'typing'")
        }
    }
}

extension RawClientFrame {
    /// The common case without Foundation: a flat object whose known keys hold strings (or null).
    /// Nil when anything is unusual, for `JSONDecoder` to judge and explain.
    init?(fast text: String) {
        var text = text
        guard let object = text.withUTF8({ FlatJSONObject.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        func field(_ key: String) -> String?? {
            switch object.value(for: key) {
            case nil, .null?: return .some(nil)
            case .string(let value)?: return .some(value)
            default: return nil
            }
        }
        guard let type = field("type"), let id = field("id"), let body = field("text"), let name = field("name"),
            let to = field("to")
        else { return nil }
        self.init(type: type, id: id, text: body, name: name, to: to)
    }
}
