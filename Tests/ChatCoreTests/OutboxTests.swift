import NIOCore
import NIOWebSocket
import Testing

@testable import ChatCore

struct OutboxTests {
    func frame(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
    }

    @Test func everythingPendingComesOutAsOneBatchInOrder() async {
        let outbox = Outbox(limit: 100)
        #expect(outbox.enqueue(self.frame("a")))
        #expect(outbox.enqueue(self.frame("b")))
        let batch = await outbox.next()
        #expect(batch?.frames.map { String(buffer: $0.data) } == ["a", "b"])
        #expect(batch?.close == nil)
        #expect(outbox.queuedBytes == 0)
    }

    @Test func aFrameThatWouldPassTheLimitIsRefused() {
        let outbox = Outbox(limit: 5)
        #expect(outbox.enqueue(self.frame("abc")))
        #expect(!outbox.enqueue(self.frame("def")))
        #expect(outbox.queuedBytes == 3)
    }

    @Test func closeComesAfterPendingFramesAndEndsTheQueue() async {
        let outbox = Outbox(limit: 100)
        _ = outbox.enqueue(self.frame("a"))
        outbox.close(self.frame("bye"), dropPending: false)
        #expect(outbox.enqueue(self.frame("late")))  // accepted but dropped: nothing follows a close
        let batch = await outbox.next()
        #expect(batch?.frames.count == 1)
        #expect(batch?.close.map { String(buffer: $0.data) } == "bye")
        #expect(await outbox.next() == nil)
    }

    @Test func closeCanDropWhatIsPending() async {
        let outbox = Outbox(limit: 100)
        _ = outbox.enqueue(self.frame("a"))
        outbox.close(self.frame("bye"), dropPending: true)
        let batch = await outbox.next()
        #expect(batch?.frames.isEmpty == true)
        #expect(batch?.close != nil)
    }

    @Test func aWaitingWriterWakesForAFrameAndForFinish() async {
        let outbox = Outbox(limit: 100)
        async let first = outbox.next()
        try? await Task.sleep(for: .milliseconds(20))  // let the writer start waiting (either order is correct)
        _ = outbox.enqueue(self.frame("x"))
        #expect(await first?.frames.count == 1)
        async let second = outbox.next()
        outbox.finish()
        #expect(await second == nil)
    }

    @Test func cancellingAWaitingWriterEndsItsWait() async {
        let outbox = Outbox(limit: 100)
        let task = Task { await outbox.next() }
        task.cancel()
        #expect(await task.value == nil)
    }
}
