/// The timing of `typing` notices (PROTOCOL.md, "typing"): a client says it at most every `interval`
/// while composing; the server relays at most one per `relayInterval` per connection; a client shows
/// "alice is typing…" until `expiry` passes without another.
public enum Typing {
    /// How often a client composing a message sends `typing`.
    public static let interval = Duration.seconds(3)
    /// The server relays at most one `typing` per connection in this time (a little under `interval`,
    /// so a client's regular notices are never dropped for jitter).
    public static let relayInterval = Duration.seconds(2)
    /// How long "is typing" shows after the last notice.
    public static let expiry = Duration.seconds(5)
}
