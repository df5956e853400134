import NIOCore
import NIOWebSocket
import Testing

@testable import ChatTransport

struct ConnectionStateMachineTests {
    static func text(_ string: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: string))
    }

    static func texts(_ machine: inout ConnectionStateMachine) -> [String] {
        var texts: [String] = []
        while let frame = machine.nextHeld() { texts.append(String(buffer: frame.unmaskedData)) }
        return texts
    }

    /// A client's connection, or a server's once attached.
    static func open() -> ConnectionStateMachine {
        var machine = ConnectionStateMachine.server(maxHeldBytes: 1000)
        #expect(machine.attached() == .none)
        return machine
    }

    @Test func anOpenConnectionDeliversDataAndAnswersPings() {
        for var machine in [Self.open(), .client()] {
            #expect(machine.receivedData(Self.text("a")) == .deliver)
            #expect(machine.receivedPing() == .sendPong)
            #expect(machine.canSend && machine.readsFreely && !machine.sentClose)
        }
    }

    @Test func framesThatComeBeforeTheApplicationWaitForItInOrder() {
        var machine = ConnectionStateMachine.server(maxHeldBytes: 1000)
        #expect(machine.receivedData(Self.text("one")) == .hold)
        #expect(machine.receivedPing() == .sendPong, "control frames are never held")
        #expect(machine.receivedData(Self.text("two")) == .hold)
        #expect(!machine.readsFreely)
        #expect(machine.attached() == .drainHeld)
        #expect(Self.texts(&machine) == ["one", "two"])
        #expect(machine.readsFreely)
        #expect(machine.receivedData(Self.text("three")) == .deliver)
    }

    @Test func tooMuchBeforeTheApplicationIsClosedWith1008() {
        var machine = ConnectionStateMachine.server(maxHeldBytes: 5)
        #expect(machine.receivedData(Self.text("1234")) == .hold)
        #expect(
            machine.receivedData(Self.text("56"))
                == .sendClose(.policyViolation, reason: "too much data before the welcome")
        )
        #expect(!machine.canSend)
        #expect(machine.attached() == .none)
        #expect(machine.nextHeld() == nil, "what was held is dropped with the close")
    }

    /// Each held frame costs its bookkeeping too: empty frames cannot pile up without bound.
    @Test func aFloodOfEmptyFramesBeforeTheApplicationIsBoundedToo() {
        var machine = ConnectionStateMachine.server(maxHeldBytes: 1000)
        var held = 0
        for _ in 0..<10_000 {
            guard machine.receivedData(Self.text("")) == .hold else { break }
            held += 1
        }
        #expect(held == 1000 / ConnectionStateMachine.heldFrameOverhead)
        #expect(machine.sentClose)
    }

    @Test func aPausedConnectionHoldsWhatItReadsUntilResumed() {
        var machine = Self.open()
        let paused = machine.pauseReading()
        let again = machine.pauseReading()
        #expect(paused && !again, "paused once")
        #expect(machine.receivedData(Self.text("a")) == .hold)
        #expect(machine.receivedData(Self.text("b")) == .hold)
        #expect(machine.nextHeld() == nil, "nothing is handed out while paused")
        machine.resumeReading()
        #expect(machine.nextHeld().map { String(buffer: $0.unmaskedData) } == "a")
        // Handling "a" made the room wait again: "b" stays held.
        let pausedAgain = machine.pauseReading()
        #expect(pausedAgain)
        #expect(machine.nextHeld() == nil)
        machine.resumeReading()
        #expect(Self.texts(&machine) == ["b"])
        #expect(machine.readsFreely)
    }

    /// A frame handed out gives back all it cost, bookkeeping included: what is held is what counts.
    @Test func framesHandedOutFreeTheirWholeCost() {
        let overhead = ConnectionStateMachine.heldFrameOverhead
        // Room for three one-byte frames.
        var machine = ConnectionStateMachine.server(maxHeldBytes: 3 * (overhead + 1))
        #expect(machine.attached() == .none)
        _ = machine.pauseReading()
        for text in ["a", "b", "c"] { #expect(machine.receivedData(Self.text(text)) == .hold) }
        machine.resumeReading()
        // One handed out, then the room waits again: two held, room for one more.
        #expect(machine.nextHeld().map { String(buffer: $0.unmaskedData) } == "a")
        _ = machine.pauseReading()
        #expect(machine.receivedData(Self.text("d")) == .hold)
        #expect(
            machine.receivedData(Self.text("e"))
                == .sendClose(.policyViolation, reason: "too much data while the room waits")
        )
    }

    @Test func aFrameReadWhileDrainingWaitsBehindTheHeldOnes() {
        var machine = Self.open()
        _ = machine.pauseReading()
        _ = machine.receivedData(Self.text("a"))
        _ = machine.receivedData(Self.text("b"))
        machine.resumeReading()
        _ = machine.nextHeld()
        #expect(machine.receivedData(Self.text("c")) == .hold)
        #expect(Self.texts(&machine) == ["b", "c"])
    }

    @Test func aConnectionClosedBeforeItsApplicationCameSaysSo() {
        var machine = ConnectionStateMachine.server(maxHeldBytes: 100)
        _ = machine.closeRequested(.goingAway)
        #expect(machine.channelClosed() == .goingAway)
        #expect(machine.attached() == .alreadyClosed(sent: .goingAway))
    }

    @Test func thePeersCloseIsEchoedWithItsCode() {
        var machine = Self.open()
        #expect(machine.receivedClose(code: .normalClosure) == .echoCloseAndFinish(.normalClosure))
        #expect(!machine.canSend)
        #expect(machine.receivedData(Self.text("late")) == .none)
        #expect(machine.receivedClose(code: .normalClosure) == .none)
        #expect(machine.channelClosed() == .normalClosure)
    }

    @Test func aCloseWithoutCodeIsAnsweredWithoutCode() {
        var machine = ConnectionStateMachine.client()
        #expect(machine.receivedClose(code: nil) == .echoCloseAndFinish(nil))
        #expect(machine.channelClosed() == .normalClosure)
    }

    @Test(arguments: [UInt16(999), 1005, 1006, 1015, 2999, 5000])
    func aCodeThatMayNotBeSentIsAnsweredWithProtocolError(_ code: UInt16) {
        for var machine in [Self.open(), .client()] {
            #expect(
                machine.receivedClose(code: WebSocketErrorCode(codeNumber: Int(code)))
                    == .echoCloseAndFinish(.protocolError)
            )
        }
    }

    @Test(arguments: [UInt16(1000), 1001, 1003, 1007, 1008, 1011, 3000, 4999])
    func aCodeThatMayBeSentIsEchoed(_ code: UInt16) {
        var machine = ConnectionStateMachine.client()
        let received = WebSocketErrorCode(codeNumber: Int(code))
        #expect(machine.receivedClose(code: received) == .echoCloseAndFinish(received))
    }

    @Test func ourCloseWaitsForThePeersAndIgnoresDataMeanwhile() {
        var machine = Self.open()
        #expect(machine.closeRequested(.goingAway) == .sendClose(.goingAway, reason: ""))
        #expect(machine.sentClose)
        #expect(machine.closeRequested(.policyViolation) == .none)
        #expect(machine.receivedData(Self.text("late")) == .none)
        #expect(machine.receivedPing() == .none)
        #expect(machine.receivedClose(code: .goingAway) == .finish)
        #expect(machine.channelClosed() == .goingAway)
    }

    @Test func aPeerThatAnswersTheLatestPingInTimeStays() {
        var machine = Self.open()
        guard case .sendPing(let first) = machine.pingTimerFired() else {
            Issue.record("no ping")
            return
        }
        #expect(machine.receivedPong(first) == .none)
        #expect(machine.pongDeadlinePassed() == .none)
        guard case .sendPing(let second) = machine.pingTimerFired() else {
            Issue.record("no second ping")
            return
        }
        #expect(first != second, "each ping carries its own payload")
        #expect(machine.receivedPong(second) == .none)
        #expect(machine.pongDeadlinePassed() == .none)
        #expect(machine.canSend)
    }

    @Test func aPongWithAnotherPayloadDoesNotCount() {
        var machine = Self.open()
        #expect(machine.pingTimerFired() == .sendPing(ConnectionStateMachine.payload(1)))
        #expect(machine.receivedPong(ByteBuffer(string: "chat")) == .none)
        #expect(machine.receivedPong(ConnectionStateMachine.payload(0)) == .none)
        #expect(machine.pongDeadlinePassed() == .dropUnresponsive)
        #expect(!machine.canSend)
        #expect(machine.channelClosed() == nil, "dropped without a close frame")
    }

    @Test func aPeerThatDoesNotAnswerBeforeTheDeadlineIsDroppedEvenWhileJoining() {
        var machine = ConnectionStateMachine.server(maxHeldBytes: 100)
        #expect(machine.pingTimerFired() == .sendPing(ConnectionStateMachine.payload(1)))
        #expect(machine.pongDeadlinePassed() == .dropUnresponsive)
        #expect(machine.pingTimerFired() == .none)
    }

    @Test func aPausedPeerIsNotDroppedForAPongItsRoomKeepsUnread() {
        var machine = Self.open()
        _ = machine.pauseReading()
        #expect(machine.pingTimerFired() == .sendPing(ConnectionStateMachine.payload(1)))
        #expect(machine.pongDeadlinePassed() == .none)
        machine.resumeReading()
        #expect(machine.pingTimerFired() == .sendPing(ConnectionStateMachine.payload(2)))
        #expect(machine.pongDeadlinePassed() == .dropUnresponsive)
    }

    @Test func thePingTimerStopsOnceClosing() {
        var machine = Self.open()
        _ = machine.closeRequested(.normalClosure)
        #expect(machine.pingTimerFired() == .none)
        #expect(machine.pongDeadlinePassed() == .none)
    }

    @Test func aStalledWriterIsEvictedOnceWith1008() {
        var machine = Self.open()
        #expect(machine.writeStalled() == .evictSlowConsumer)
        #expect(!machine.canSend)
        #expect(machine.writeStalled() == .none)
        #expect(machine.closeRequested(.goingAway) == .none)
        #expect(machine.channelClosed() == .policyViolation)
    }
}
