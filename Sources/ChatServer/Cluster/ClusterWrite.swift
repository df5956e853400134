import ChatProtocol

/// What one committed batch did.
struct ClusterWrite: Sendable {
    /// Each post's seq, in the batch's order: a new one, or the one its id already had.
    var seqs: [UInt64]
    /// The rows this transaction added, per room, in seq order.
    var added: [RoomName: [ChatMessage]]
    /// Each room's last committed seq right after the commit.
    var lastSeqs: [RoomName: UInt64]
}
