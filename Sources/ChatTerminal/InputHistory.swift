/// Where `chat join` keeps what was typed, between runs.
public enum InputHistory {
    /// `$XDG_STATE_HOME/chat/history`, else `~/.local/state/chat/history`; nil without either variable.
    public static func path(environment: [String: String]) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return state + "/chat/history"
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.local/state/chat/history"
    }
}
