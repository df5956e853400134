extension Duration {
    /// The duration in seconds, fractions included.
    package var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }

    /// `2.3s`, `20s`: how durations read in messages.
    package var formattedSeconds: String {
        let milliseconds = Int64((self.inSeconds * 1000).rounded())
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds / 1000).\((milliseconds % 1000) / 100)s"
    }
}
