/// The `code` values of `error` frames (see PROTOCOL.md).
public enum ChatErrorCode {
    /// The frame was JSON of the wrong shape, or a value was out of range.
    public static let badRequest = "bad_request"
    /// The message text is larger than `maxMessageBytes`.
    public static let tooLarge = "too_large"
    /// A binary frame: the protocol is text only.
    public static let unsupported = "unsupported"
    /// A `nick` asked for a name the server does not accept.
    public static let invalidName = "invalid_name"
    /// The connection sends faster than the server's rate limit; `retryAfter` says when to resend.
    public static let rateLimited = "rate_limited"
    /// A direct message to a name nobody in the room has.
    public static let noSuchUser = "no_such_user"
}
