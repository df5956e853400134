import ChatProtocol
import Testing

@testable import ChatServer

/// A room whose server has a store: messages get their seq at once but are visible only once confirmed.
struct RoomConfirmationTests {
    let now = Timestamp(millisecondsSince1970: 1_764_079_385_123)

    @Test func anUnconfirmedMessageIsNeitherReplayedNorAnnouncedUntilConfirmed() throws {
        var room = Room(name: "ops", historyLimit: 10, requiresConfirmation: true)
        let alice = room.join(id: "u-1", requestedName: "alice")
        guard case .unconfirmed(let first) = room.post(from: alice, id: "c-1", text: "one", at: self.now) else {
            Issue.record("a store-backed room must hold a new message")
            return
        }
        #expect(first.stored.message.seq == 1)
        #expect(first.clientID)
        #expect(first.acks == [Room.AckTarget(userID: "u-1", id: "c-1")])
        #expect(room.lastSeq == 1)
        #expect(room.confirmedSeq == 0)
        #expect(room.historyCount == 0)
        // A joiner resuming from 0 is up to date: nothing visible happened yet.
        let early = room.replay(since: 0, epoch: nil, currentEpoch: "e", count: 10)
        #expect(early.recovered == true)
        #expect(early.frames.isEmpty)

        let confirmed = room.confirm(through: 1)
        #expect(confirmed.map(\.stored.message.seq) == [1])
        #expect(room.confirmedSeq == 1)
        #expect(room.replay(since: 0, epoch: nil, currentEpoch: "e", count: nil).frames.count == 1)
    }

    @Test func confirmingReleasesInSeqOrderUpToTheGivenSeq() {
        var room = Room(name: "ops", historyLimit: 10, requiresConfirmation: true)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...5 { _ = room.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.now) }
        #expect(room.confirm(through: 3).map(\.stored.message.seq) == [1, 2, 3])
        #expect(room.confirm(through: 3).isEmpty)
        #expect(room.confirm(through: 9).map(\.stored.message.seq) == [4, 5])
        #expect(room.confirmedSeq == 5)
        #expect(room.historyCount == 5)
    }

    @Test func aResendOfAnUnconfirmedMessageWaitsForTheFirstCopysAck() {
        var room = Room(name: "ops", historyLimit: 10, requiresConfirmation: true)
        let alice = room.join(id: "u-1", requestedName: "alice")
        let again = room.join(id: "u-2", requestedName: "alice")
        _ = room.post(from: alice, id: "c-1", text: "one", at: self.now)
        _ = room.post(from: alice, id: "c-2", text: "two", at: self.now)
        guard case .duplicateUnconfirmed(let seq) = room.post(from: again, id: "c-1", text: "one", at: self.now) else {
            Issue.record("a resend before confirmation must wait")
            return
        }
        #expect(seq == 1)
        #expect(room.lastSeq == 2)
        let confirmed = room.confirm(through: 2)
        #expect(
            confirmed.first?.acks == [
                Room.AckTarget(userID: "u-1", id: "c-1"), Room.AckTarget(userID: again.id, id: "c-1"),
            ]
        )
        // Once confirmed, a resend is acked at once with the same seq.
        guard case .duplicate(let later) = room.post(from: again, id: "c-1", text: "one", at: self.now) else {
            Issue.record("a resend after confirmation is an ordinary duplicate")
            return
        }
        #expect(later == 1)
    }

    @Test func aServerChosenIdIsNeverAckedOrDeduplicated() {
        var room = Room(name: "ops", historyLimit: 10, requiresConfirmation: true)
        let alice = room.join(id: "u-1", requestedName: "alice")
        guard case .unconfirmed(let pending) = room.post(from: alice, id: nil, text: "x", at: self.now) else {
            Issue.record("expected an unconfirmed message")
            return
        }
        #expect(!pending.clientID)
        #expect(pending.acks.isEmpty)
    }

    @Test func restoringCarriesTheSeqOnAndRemembersClientIds() {
        let stored = (1...6).map { seq in
            PersistedMessage(
                message: ChatMessage(
                    room: "ops",
                    seq: UInt64(seq),
                    id: seq == 6 ? "s-server" : "c-\(seq)",
                    from: "alice",
                    uid: "u-old",
                    text: "\(seq)",
                    ts: self.now
                ),
                clientID: seq != 6
            )
        }
        var room = Room(name: "ops", historyLimit: 3, requiresConfirmation: true)
        room.restore(lastSeq: 6, messages: stored)
        #expect(room.lastSeq == 6)
        #expect(room.confirmedSeq == 6)
        #expect(room.historyCount == 3)
        #expect(room.firstSeq == 4)
        let resumed = room.replay(since: 4, epoch: "e", currentEpoch: "e", count: nil)
        #expect(resumed.recovered == true)
        #expect(resumed.frames.count == 2)
        let bob = room.join(id: "u-2", requestedName: "bob")
        // A message stored before the restart, resent after it, keeps its seq; a new one gets seq 7.
        guard case .duplicate(let seq) = room.post(from: bob, id: "c-2", text: "2", at: self.now) else {
            Issue.record("a stored client id must be de-duplicated after a restore")
            return
        }
        #expect(seq == 2)
        #expect(room.post(from: bob, id: "s-server", text: "new", at: self.now).seq == 7)
    }

    @Test func aRoomThatHadMessagesIsNeverDisposedSoItsSeqNeverRestarts() {
        var room = Room(name: "ops", historyLimit: 0, dedupWindow: 0)
        let alice = room.join(id: "u-1", requestedName: "alice")
        _ = room.leave(id: alice.id)
        #expect(room.isDisposable)
        let bob = room.join(id: "u-2", requestedName: "bob")
        _ = room.post(from: bob, id: nil, text: "x", at: self.now)
        _ = room.leave(id: bob.id)
        #expect(!room.isDisposable)
    }
}

/// A resume older than the history, served with messages a store reads back.
struct RoomReadBackTests {
    let now = Timestamp(millisecondsSince1970: 1_764_079_385_123)

    private func room() -> Room {
        var room = Room(name: "ops", historyLimit: 3)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...8 { _ = room.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.now) }
        return room
    }

    private func stored(_ seqs: ClosedRange<UInt64>) -> [Room.StoredMessage] {
        var source = Room(name: "ops", historyLimit: 100)
        let alice = source.join(id: "u-1", requestedName: "alice")
        var all: [Room.StoredMessage] = []
        for index in 1...8 {
            if case .posted(let message) = source.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.now) {
                all.append(message)
            }
        }
        return all.filter { seqs.contains($0.message.seq) }
    }

    @Test func theStoreIsAskedForEverythingAfterSinceOnlyWhenTheHistoryIsShort() {
        let room = self.room()
        #expect(room.firstSeq == 6)
        #expect(room.missing(since: 2, epoch: "e", currentEpoch: "e") == 3...8)
        #expect(room.missing(since: 5, epoch: "e", currentEpoch: "e") == nil)
        #expect(room.missing(since: 2, epoch: "other", currentEpoch: "e") == nil)
        #expect(room.missing(since: 8, epoch: nil, currentEpoch: "e") == nil)
    }

    @Test func storedMessagesThatReachTheHistoryRecoverWithoutDuplicates() {
        let replay = self.room().replay(
            since: 2,
            epoch: "e",
            currentEpoch: "e",
            count: nil,
            earlier: self.stored(3...7)
        )
        #expect(replay.recovered == true)
        #expect(replay.frames.count == 6)
        #expect(replay.frames == self.stored(3...8).map(\.frame))
    }

    @Test func storedMessagesThatStopShortOrHaveAHoleDoNotRecover() {
        let room = self.room()
        let short = room.replay(since: 2, epoch: "e", currentEpoch: "e", count: nil, earlier: self.stored(3...4))
        #expect(short.recovered == false)
        #expect(short.firstSeq == 6)
        let holed = self.stored(3...3) + self.stored(5...7)
        #expect(room.replay(since: 2, epoch: "e", currentEpoch: "e", count: nil, earlier: holed).recovered == false)
    }
}
