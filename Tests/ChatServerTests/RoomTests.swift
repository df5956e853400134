import ChatProtocol
import Foundation
import NIOCore
import Testing

@testable import ChatServer

struct RoomTests {
    let now = Timestamp(millisecondsSince1970: 1_764_079_385_123)

    @Test func joinsKeepOrderAndClashingNamesGetASuffix() {
        var room = Room(name: "lobby", historyLimit: 10)
        let alice = room.join(id: "u-1", requestedName: "alice")
        let alice2 = room.join(id: "u-2", requestedName: "Alice")
        let bob = room.join(id: "u-3", requestedName: "bob")
        #expect(alice.name == "alice")
        #expect(alice2.name == "Alice-2")
        #expect(room.members.map(\.id) == ["u-1", "u-2", "u-3"])
        let left = room.leave(id: "u-2")
        let leftAgain = room.leave(id: "u-2")
        #expect(left == alice2)
        #expect(leftAgain == nil)
        #expect(room.members == [alice, bob])
    }

    @Test func aFreedNameCanBeTakenAgain() {
        var room = Room(name: "lobby", historyLimit: 10)
        _ = room.join(id: "u-1", requestedName: "alice")
        _ = room.leave(id: "u-1")
        #expect(room.join(id: "u-2", requestedName: "alice").name == "alice")
    }

    @Test func aRenameFreesTheOldNameAndTakesTheNewOne() {
        var room = Room(name: "lobby", historyLimit: 10)
        _ = room.join(id: "u-1", requestedName: "alice")
        _ = room.rename(id: "u-1", to: "carol")
        #expect(room.join(id: "u-2", requestedName: "ALICE").name == "ALICE")
        #expect(room.join(id: "u-3", requestedName: "Carol").name == "Carol-2")
        _ = room.leave(id: "u-1")
        #expect(room.join(id: "u-4", requestedName: "carol").name == "carol")
    }

    @Test func renameIsMadeUniqueButMayChangeOnlyTheCase() throws {
        var room = Room(name: "lobby", historyLimit: 10)
        _ = room.join(id: "u-1", requestedName: "alice")
        _ = room.join(id: "u-2", requestedName: "bob")
        let clashing = room.rename(id: "u-2", to: "alice")
        let clash = try #require(clashing)
        #expect(clash.user.name == "alice-2")
        #expect(clash.previousName == "bob")
        let recasing = room.rename(id: "u-1", to: "ALICE")
        let recase = try #require(recasing)
        #expect(recase.user.name == "ALICE")
        let unchanged = room.rename(id: "u-1", to: "ALICE")
        let unknown = room.rename(id: "nobody", to: "x")
        #expect(unchanged == nil)
        #expect(unknown == nil)
    }

    @Test func postsGetStrictlyIncreasingSeqsAndAnEncodedFrame() throws {
        var room = Room(name: "ops", historyLimit: 10)
        let alice = room.join(id: "u-1", requestedName: "alice")
        let first = try #require(room.post(from: alice, id: "c-1", text: "one", at: self.now).stored)
        let second = try #require(room.post(from: alice, id: "c-2", text: "two", at: self.now).stored)
        #expect(
            first.message
                == ChatMessage(
                    room: "ops",
                    seq: 1,
                    id: "c-1",
                    from: "alice",
                    uid: "u-1",
                    text: "one",
                    ts: Timestamp(rfc3339: "2025-11-25T14:03:05.123Z")!
                )
        )
        #expect(second.message.seq == 2)
        #expect(room.lastSeq == 2)
        #expect(second.frame == ServerFrame.message(second.message).encode())
    }

    @Test func historyKeepsOnlyTheNewestMessages() {
        var room = Room(name: "lobby", historyLimit: 3)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...5 { _ = room.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.now) }
        #expect(room.historyCount == 3)
        #expect(room.firstSeq == 3)
        let replay = room.replay(since: nil, epoch: nil, currentEpoch: "e", count: 10)
        #expect(replay.frames.map(Self.seq) == [3, 4, 5])
        #expect(replay.recovered == nil)
        #expect(room.replay(since: nil, epoch: nil, currentEpoch: "e", count: 2).frames.map(Self.seq) == [4, 5])
        #expect(room.replay(since: nil, epoch: nil, currentEpoch: "e", count: nil).frames.isEmpty)
    }

    @Test func resumeReplaysExactlyWhatCameAfterSince() {
        var room = Room(name: "lobby", historyLimit: 3)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...5 { _ = room.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.now) }
        let resumed = room.replay(since: 3, epoch: "e", currentEpoch: "e", count: nil)
        #expect(resumed.recovered == true)
        #expect(resumed.frames.map(Self.seq) == [4, 5])
        let edge = room.replay(since: 2, epoch: nil, currentEpoch: "e", count: nil)
        #expect(edge.recovered == true)
        #expect(edge.frames.map(Self.seq) == [3, 4, 5])
        let upToDate = room.replay(since: 5, epoch: "e", currentEpoch: "e", count: nil)
        #expect(upToDate.recovered == true)
        #expect(upToDate.frames.isEmpty)
    }

    @Test(arguments: [
        (UInt64(1), "e"),  // older than the history
        (UInt64(9), "e"),  // from the future
        (UInt64(4), "other"),  // another epoch
    ])
    func aResumeThatCannotBeFilledSaysWhereHistoryStarts(_ since: UInt64, _ epoch: String) {
        var room = Room(name: "lobby", historyLimit: 3)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...5 { _ = room.post(from: alice, id: "c-\(index)", text: "\(index)", at: self.now) }
        let replay = room.replay(since: since, epoch: epoch, currentEpoch: "e", count: 1)
        #expect(replay.recovered == false)
        #expect(replay.firstSeq == 3)
        #expect(replay.frames.map(Self.seq) == [5])
    }

    @Test func anEmptyRoomWithoutHistoryIsDisposable() {
        var room = Room(name: "lobby", historyLimit: 3)
        #expect(room.isDisposable)
        let alice = room.join(id: "u-1", requestedName: "alice")
        #expect(!room.isDisposable)
        _ = room.post(from: alice, id: "c-1", text: "x", at: self.now)
        _ = room.leave(id: "u-1")
        #expect(!room.isDisposable)
    }

    @Test func zeroHistoryKeepsNothingButStillCounts() {
        var room = Room(name: "lobby", historyLimit: 0)
        let alice = room.join(id: "u-1", requestedName: "alice")
        _ = room.post(from: alice, id: "c-1", text: "x", at: self.now)
        #expect(room.historyCount == 0)
        #expect(room.lastSeq == 1)
        #expect(room.replay(since: 0, epoch: nil, currentEpoch: "e", count: nil).recovered == false)
    }

    static func seq(_ frame: ByteBuffer) -> UInt64 {
        let text = String(buffer: frame)
        let start = text.range(of: "\"seq\":")!.upperBound
        return UInt64(text[start...].prefix(while: \.isNumber))!
    }

    @Test func aResentIdKeepsItsSeqAndIsStoredOnce() throws {
        var room = Room(name: "lobby", historyLimit: 10)
        let alice = room.join(id: "u-1", requestedName: "alice")
        let bob = room.join(id: "u-2", requestedName: "bob")
        _ = room.post(from: alice, id: "x-1", text: "one", at: self.now)
        _ = room.post(from: alice, id: "x-2", text: "two", at: self.now)
        guard case .duplicate(let seq) = room.post(from: bob, id: "x-1", text: "one again", at: self.now) else {
            Issue.record("a resent id must not be stored again")
            return
        }
        #expect(seq == 1)
        #expect(room.lastSeq == 2)
        #expect(room.historyCount == 2)
    }

    @Test func messagesWithoutIdAreNeverDeduplicatedAndGetAServerId() throws {
        var room = Room(name: "lobby", historyLimit: 10)
        let alice = room.join(id: "u-1", requestedName: "alice")
        let first = try #require(room.post(from: alice, id: nil, text: "same", at: self.now).stored)
        let second = try #require(room.post(from: alice, id: nil, text: "same", at: self.now).stored)
        #expect(first.message.id.rawValue.hasPrefix("s-"))
        #expect(first.message.id != second.message.id)
        #expect(room.lastSeq == 2)
    }

    @Test func theDedupWindowIsBounded() {
        var room = Room(name: "lobby", historyLimit: 10, dedupWindow: 2)
        let alice = room.join(id: "u-1", requestedName: "alice")
        for index in 1...3 { _ = room.post(from: alice, id: "x-\(index)", text: "\(index)", at: self.now) }
        // x-1 fell out of the window; x-3 is still in it.
        #expect(room.post(from: alice, id: "x-1", text: "1", at: self.now).stored?.message.seq == 4)
        #expect(room.post(from: alice, id: "x-3", text: "3", at: self.now).stored == nil)
    }
}

extension Room.PostResult {
    var stored: Room.StoredMessage? {
        if case .posted(let stored) = self { return stored }
        return nil
    }
}
