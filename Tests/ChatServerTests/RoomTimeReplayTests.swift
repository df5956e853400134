import ChatProtocol
import NIOCore
import Testing

@testable import ChatServer

/// `sinceTime`: what a room replays from a time on, from its history and from what a store read back.
struct RoomTimeReplayTests {
    let start = Timestamp(millisecondsSince1970: 1_764_079_380_000)

    /// The time `minutes` after `start`.
    func at(_ minutes: Double) -> Timestamp {
        Timestamp(millisecondsSince1970: self.start.millisecondsSince1970 + Int64(minutes * 60_000))
    }

    /// A room whose messages 1…`count` were posted 1…`count` minutes after `start`.
    func room(historyLimit: Int, count: Int = 5) -> Room {
        var room = Room(name: "lobby", historyLimit: historyLimit)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...count {
            _ = room.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.at(Double(index)))
        }
        return room
    }

    func stored(_ seqs: ClosedRange<UInt64>) -> [Room.StoredMessage] {
        seqs.map { seq in
            let message = ChatMessage(
                room: "lobby",
                seq: seq,
                id: "c-\(seq)",
                from: "alice",
                uid: "u-1",
                text: "\(seq)",
                ts: self.at(Double(seq))
            )
            return Room.StoredMessage(message: message, frame: ServerFrame.message(message).encode())
        }
    }

    @Test func aHistoryThatHoldsEverythingReplaysFromTheFirstMessageAtOrAfterTheTime() {
        let room = self.room(historyLimit: 10)
        let middle = room.replay(from: self.at(2.5), stored: nil)
        #expect(middle.frames.map(RoomTests.seq) == [3, 4, 5])
        #expect(middle.recovered == true)
        #expect(room.replay(from: self.at(3), stored: nil).frames.map(RoomTests.seq) == [3, 4, 5])
        #expect(room.replay(from: self.at(0), stored: nil).frames.map(RoomTests.seq) == [1, 2, 3, 4, 5])
        let later = room.replay(from: self.at(6), stored: nil)
        #expect(later.frames.isEmpty)
        #expect(later.recovered == true)
        #expect(room.missing(from: self.at(0)) == nil)
    }

    @Test func whatLeftTheHistoryCountsOnlyWhenItIsFromThatTimeOn() {
        // History 3..5; 2 (posted at minute 2) is the newest that left it.
        let room = self.room(historyLimit: 3)
        let afterTheDropped = room.replay(from: self.at(2.5), stored: nil)
        #expect(afterTheDropped.frames.map(RoomTests.seq) == [3, 4, 5])
        #expect(afterTheDropped.recovered == true)
        #expect(room.missing(from: self.at(2.5)) == nil)

        // From minute 1.5, message 2 is missing: what the history has is replayed, and said to be partial.
        let beforeIt = room.replay(from: self.at(1.5), stored: nil)
        #expect(beforeIt.frames.map(RoomTests.seq) == [3, 4, 5])
        #expect(beforeIt.recovered == false)
        #expect(beforeIt.firstSeq == 3)
        #expect(room.missing(from: self.at(1.5))! == (through: 5, historyStart: 3))
    }

    @Test func aStoresMessagesJoinTheHistory() {
        let room = self.room(historyLimit: 3)
        let joined = room.replay(from: self.at(1.5), stored: .init(firstSeq: 2, messages: self.stored(2...5)))
        #expect(joined.frames.map(RoomTests.seq) == [2, 3, 4, 5])
        #expect(joined.recovered == true)
        let overlapping = room.replay(from: self.at(0.5), stored: .init(firstSeq: 1, messages: self.stored(1...2)))
        #expect(overlapping.frames.map(RoomTests.seq) == [1, 2, 3, 4, 5])
        // The store's first message is in the history already: it read nothing more.
        let inHistory = room.replay(from: self.at(1.5), stored: .init(firstSeq: 4, messages: []))
        #expect(inHistory.frames.map(RoomTests.seq) == [4, 5])
        #expect(inHistory.recovered == true)
    }

    @Test func aReadBackCutShortByItsBoundIsPartial() {
        let room = self.room(historyLimit: 2)
        // The store has 1…5 from minute 0.5 on, but only 1…2 fitted: 3 is missing between them and the history.
        let cut = room.replay(from: self.at(0.5), stored: .init(firstSeq: 1, messages: self.stored(1...2)))
        #expect(cut.frames.map(RoomTests.seq) == [4, 5])
        #expect(cut.recovered == false)
        #expect(cut.firstSeq == 4)
        let holed = room.replay(
            from: self.at(0.5),
            stored: .init(firstSeq: 1, messages: self.stored(1...1) + self.stored(3...3))
        )
        #expect(holed.recovered == false)
    }

    @Test func aRestoredRoomDoesNotKnowWhatCameBeforeItsHistory() {
        var room = Room(name: "lobby", historyLimit: 2)
        room.restore(
            lastSeq: 5,
            messages: self.stored(3...5).map { PersistedMessage(message: $0.message, clientID: true) }
        )
        // 3 was read back but did not fit: it is known to be older than minute 3.5.
        #expect(room.missing(from: self.at(3.5)) == nil)
        #expect(room.replay(from: self.at(3.5), stored: nil).frames.map(RoomTests.seq) == [4, 5])
        // Before minute 3, the store has to say.
        #expect(room.missing(from: self.at(2.5))! == (through: 5, historyStart: 4))
        var unknown = Room(name: "lobby", historyLimit: 3)
        unknown.restore(
            lastSeq: 5,
            messages: self.stored(4...5).map { PersistedMessage(message: $0.message, clientID: true) }
        )
        #expect(unknown.missing(from: self.at(4.5)) == nil)
        #expect(unknown.missing(from: self.at(3.5))! == (through: 5, historyStart: 4))
    }

    @Test func withoutHistoryOnlyAStoreCanAnswer() {
        let room = self.room(historyLimit: 0)
        #expect(room.replay(from: self.at(6), stored: nil).recovered == true)
        #expect(room.replay(from: self.at(4.5), stored: nil).recovered == false)
        let fromStore = room.replay(from: self.at(4.5), stored: .init(firstSeq: 5, messages: self.stored(5...5)))
        #expect(fromStore.frames.map(RoomTests.seq) == [5])
        #expect(fromStore.recovered == true)
    }
}
