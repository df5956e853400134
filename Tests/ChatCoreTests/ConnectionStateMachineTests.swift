import ChatCore
import NIOWebSocket
import Testing

struct ConnectionStateMachineTests {
    @Test func anOpenConnectionDeliversDataAndAnswersPings() {
        var machine = ConnectionStateMachine()
        #expect(machine.receivedData() == .deliver)
        #expect(machine.receivedPing() == .sendPong)
        #expect(machine.isOpen)
    }

    @Test func thePeersCloseIsEchoedWithItsCode() {
        var machine = ConnectionStateMachine()
        #expect(machine.receivedClose(code: .normalClosure) == .echoCloseAndFinish(.normalClosure))
        #expect(!machine.isOpen)
        #expect(machine.receivedData() == .doNothing)
        #expect(machine.receivedClose(code: .normalClosure) == .doNothing)
    }

    @Test func aCloseWithoutCodeIsAnsweredWithoutCode() {
        var machine = ConnectionStateMachine()
        #expect(machine.receivedClose(code: nil) == .echoCloseAndFinish(nil))
    }

    @Test(arguments: [UInt16(999), 1005, 1006, 1015, 2999, 5000])
    func aCodeThatMayNotBeSentIsAnsweredWithProtocolError(_ code: UInt16) {
        var machine = ConnectionStateMachine()
        #expect(
            machine.receivedClose(code: WebSocketErrorCode(codeNumber: Int(code)))
                == .echoCloseAndFinish(.protocolError)
        )
    }

    @Test func ourCloseWaitsForThePeersAndIgnoresDataMeanwhile() {
        var machine = ConnectionStateMachine()
        #expect(machine.closeRequested(.goingAway) == .sendClose(.goingAway))
        #expect(machine.closeRequested(.policyViolation) == .doNothing)
        #expect(machine.receivedData() == .doNothing)
        #expect(machine.receivedPing() == .doNothing)
        #expect(machine.receivedClose(code: .goingAway) == .finish)
    }

    @Test func aPeerThatAnswersInTimeStays() {
        var machine = ConnectionStateMachine()
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.receivedPong() == .doNothing)
        #expect(machine.pongDeadlinePassed() == .doNothing)
        #expect(machine.isOpen)
    }

    @Test func aPeerThatDoesNotAnswerBeforeTheDeadlineIsDropped() {
        var machine = ConnectionStateMachine()
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.pongDeadlinePassed() == .dropUnresponsive)
        #expect(machine.pingTimerFired() == .doNothing)
    }

    @Test func thePingTimerStopsOnceClosing() {
        var machine = ConnectionStateMachine()
        _ = machine.closeRequested(.normalClosure)
        #expect(machine.pingTimerFired() == .doNothing)
    }
}
