import ChatProtocol
import Testing

@testable import ChatClient

/// The outbox as a value: what goes out, in which order, and when — across reconnects, refusals, the
/// window and the server's pace — with the clock passed in.
struct OutboxTests {
    let start = ContinuousClock.now

    static func connect(_ outbox: inout Outbox, rate: Double = 0, burst: Int = 0) {
        outbox.connected(rate: rate, burst: burst, maxMessageBytes: 1000, epoch: "e")
    }

    /// The frames of a `.send`, as short strings: `m:<id>`, `d:<id>><name>` and `n:<name>`.
    static func sent(_ action: Outbox.Action) -> [String] {
        guard case .send(let frames) = action else { return [] }
        return frames.map { frame in
            switch frame {
            case .message(let id, _): "m:\(id ?? "-")"
            case .direct(let id, let to, _): "d:\(id ?? "-")>\(to)"
            case .nick(let name): "n:\(name)"
            case .typing: "t"
            }
        }
    }

    @Test func aDirectMessageGoesInLineAndTypingGoesFirstOnThisConnectionOnly() {
        var outbox = Outbox(idPrefix: "p")
        outbox.typing()
        outbox.enqueue("room")
        outbox.enqueue("psst", to: "bob")
        Self.connect(&outbox)
        // Said while disconnected: stale by now, so not sent.
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-1", "d:p-2>bob"])
        outbox.typing()
        outbox.enqueue("more")
        #expect(Self.sent(outbox.next(now: self.start)) == ["t", "m:p-3"])
        let acknowledged = outbox.acknowledged("p-2", seq: nil)
        #expect(acknowledged && outbox.lastSeq == nil)
        outbox.disconnected()
        Self.connect(&outbox)
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-1", "m:p-3"])
    }

    @Test func messagesGoInOrderWithTheirIdsOnceConnected() {
        var outbox = Outbox(idPrefix: "p")
        #expect(outbox.enqueue("one") == "p-1")
        #expect(outbox.enqueue("two") == "p-2")
        #expect(outbox.next(now: self.start) == .disconnected)
        Self.connect(&outbox)
        #expect(
            outbox.next(now: self.start) == .send([.message(id: "p-1", text: "one"), .message(id: "p-2", text: "two")])
        )
        #expect(outbox.next(now: self.start) == .idle, "sent once")
        #expect(outbox.unacknowledged == 2)
    }

    @Test func aReconnectSendsWhatIsUnacknowledgedAgainInOrder() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        for text in ["a", "b", "c"] { outbox.enqueue(text) }
        _ = outbox.next(now: self.start)
        let acknowledged = outbox.acknowledged("p-2", seq: 7)
        #expect(acknowledged)
        outbox.disconnected()
        outbox.enqueue("d")
        #expect(outbox.next(now: self.start) == .disconnected)
        Self.connect(&outbox)
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-1", "m:p-3", "m:p-4"])
        #expect(outbox.connections == 2)
    }

    @Test func aRepeatedAckCountsOnce() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        outbox.enqueue("a")
        _ = outbox.next(now: self.start)
        let first = outbox.acknowledged("p-1", seq: 3)
        let again = outbox.acknowledged("p-1", seq: 3)
        let other = outbox.acknowledged("someone-else", seq: 4)
        #expect(first && !again && !other)
        #expect(outbox.acknowledged == 1 && outbox.lastSeq == 3 && outbox.unacknowledged == 0)
    }

    @Test func itIsFinishedOnlyOnceTheInputEndedAndAllIsAcknowledged() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        outbox.enqueue("a")
        outbox.finishInput()
        _ = outbox.next(now: self.start)
        #expect(outbox.next(now: self.start) == .idle)
        outbox.acknowledged("p-1", seq: 1)
        #expect(outbox.next(now: self.start) == .finished)
    }

    @Test func aRateLimitedMessageGoesAgainWithEverythingAfterItOnlyAfterRetryAfter() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        for text in ["a", "b", "c", "d"] { outbox.enqueue(text) }
        _ = outbox.next(now: self.start)
        outbox.acknowledged("p-1", seq: 1)
        let refusal = outbox.refused("p-2", rateLimited: true, retryAfter: .milliseconds(300), now: self.start)
        #expect(refusal == .resendLater)
        // A later refusal of the same run reaches no further back and holds no shorter.
        _ = outbox.refused("p-3", rateLimited: true, retryAfter: .milliseconds(100), now: self.start)
        #expect(outbox.next(now: self.start + .milliseconds(299)) == .wait(until: self.start + .milliseconds(300)))
        outbox.enqueue("e")
        #expect(
            Self.sent(outbox.next(now: self.start + .milliseconds(300))) == ["m:p-2", "m:p-3", "m:p-4", "m:p-5"]
        )
    }

    @Test func receiptsAreToldInInputOrderWhateverOrderTheAcksCameIn() {
        var outbox = Outbox(limits: Outbox.Limits(keepsReceipts: true), idPrefix: "p")
        Self.connect(&outbox)
        for text in ["a", "b", "c", "d"] { outbox.enqueue(text) }
        _ = outbox.next(now: self.start)
        #expect(outbox.sent == 4)
        outbox.acknowledged("p-1", seq: 10)
        #expect(outbox.takeReceipts() == [Outbox.Receipt(number: 1, id: "p-1", seq: 10)])
        // p-2 is refused and goes again; p-3 and p-4 are acked first, and wait for it.
        _ = outbox.refused("p-2", rateLimited: true, retryAfter: .zero, now: self.start)
        outbox.acknowledged("p-4", seq: 12)
        outbox.acknowledged("p-3", seq: 11)
        #expect(outbox.takeReceipts().isEmpty)
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-2"], "the others are acknowledged")
        #expect(outbox.sent == 4, "a message sent again is not counted again")
        outbox.acknowledged("p-2", seq: 13)
        #expect(outbox.takeReceipts().map(\.id) == ["p-2", "p-3", "p-4"])
        #expect(outbox.takeReceipts().isEmpty, "each is told once")
    }

    @Test func withoutReceiptsNothingIsKept() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        outbox.enqueue("a")
        _ = outbox.next(now: self.start)
        outbox.acknowledged("p-1", seq: 1)
        #expect(outbox.takeReceipts().isEmpty)
    }

    @Test func aMessageRefusedForGoodIsTakenOut() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        outbox.enqueue("fine")
        outbox.enqueue(String(repeating: "x", count: 10))
        _ = outbox.next(now: self.start)
        let refusal = outbox.refused("p-2", rateLimited: false, retryAfter: .zero, now: self.start)
        #expect(
            refusal
                == .rejected(Outbox.Message(number: 2, id: "p-2", text: String(repeating: "x", count: 10), weight: 10))
        )
        #expect(outbox.unacknowledged == 1 && outbox.unacknowledgedBytes == 4)
        #expect(outbox.refused("p-2", rateLimited: true, retryAfter: .seconds(1), now: self.start) == .unknown)
        outbox.disconnected()
        Self.connect(&outbox)
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-1"], "it is not sent again")
    }

    @Test func theWindowBoundsMessagesAndBytesAndAnOversizedOneGoesAlone() {
        var outbox = Outbox(limits: Outbox.Limits(window: 2, windowBytes: 10), idPrefix: "p")
        #expect(outbox.hasRoom(forBytes: 6))
        outbox.enqueue("123456")
        #expect(!outbox.hasRoom(forBytes: 5), "6 + 5 bytes > 10")
        #expect(outbox.hasRoom(forBytes: 4))
        outbox.enqueue("1234")
        #expect(!outbox.hasRoom(forBytes: 0), "two messages already")
        Self.connect(&outbox)
        _ = outbox.next(now: self.start)
        outbox.acknowledged("p-1", seq: 1)
        outbox.acknowledged("p-2", seq: 2)
        // Larger than the whole window: it takes all of it, and waits for nothing else to be in flight.
        #expect(outbox.hasRoom(forBytes: 50))
        outbox.enqueue(String(repeating: "y", count: 50))
        #expect(outbox.unacknowledgedBytes == 10)
        #expect(!outbox.hasRoom(forBytes: 1))
    }

    @Test func sendsKeepUnderTheServersPace() {
        var outbox = Outbox(idPrefix: "p")
        // 10 messages a second with a burst of 4: the pacer allows 2 at once, then about one per 105 ms.
        Self.connect(&outbox, rate: 10, burst: 4)
        for index in 1...5 { outbox.enqueue("m\(index)") }
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-1", "m:p-2"])
        guard case .wait(let until) = outbox.next(now: self.start) else {
            Issue.record("expected a wait")
            return
        }
        #expect(until > self.start && until <= self.start + .milliseconds(120))
        #expect(Self.sent(outbox.next(now: until)) == ["m:p-3"])
        let unpaced = Outbox(limits: Outbox.Limits(pacing: false), idPrefix: "q")
        var free = unpaced
        Self.connect(&free, rate: 10, burst: 4)
        for index in 1...5 { free.enqueue("m\(index)") }
        #expect(Self.sent(free.next(now: self.start)).count == 5)
    }

    @Test func aBatchHoldsAtMostTheBatchLimit() {
        var outbox = Outbox(idPrefix: "p")
        Self.connect(&outbox)
        for index in 1...(Outbox.batchLimit + 3) { outbox.enqueue("m\(index)") }
        #expect(Self.sent(outbox.next(now: self.start)).count == Outbox.batchLimit)
        #expect(Self.sent(outbox.next(now: self.start)).count == 3)
    }

    @Test func aRenameGoesInLineAndIsAskedForFirstOnEveryNewConnection() {
        var outbox = Outbox(idPrefix: "p")
        outbox.enqueue("before")
        outbox.rename("robot")
        outbox.enqueue("after")
        Self.connect(&outbox)
        #expect(Self.sent(outbox.next(now: self.start)) == ["m:p-1", "n:robot", "m:p-3"])
        outbox.acknowledged("p-1", seq: 1)
        outbox.disconnected()
        Self.connect(&outbox)
        // The server gives a new connection a fresh name: the one asked for comes first, then the rest.
        #expect(Self.sent(outbox.next(now: self.start)) == ["n:robot", "m:p-3"])
    }
}
