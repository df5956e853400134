/// The version of `chat`, shown by `chat --version` and sent as the client's User-Agent.
public enum ChatVersion {
    /// The current version.
    public static let current = "0.2.0"
}
