import ChatClient
import Testing

@testable import chat

/// The text of `send --progress`'s line.
struct SendProgressTests {
    @Test(arguments: [
        (3, 2, Duration.milliseconds(2000), "sent 3, acked 2, 1/s, 2.0s"),
        (120_000, 119_872, .milliseconds(1990), "sent 120000, acked 119872, 60237/s, 1.9s"),
        (0, 0, .zero, "sent 0, acked 0, 0/s, 0.0s"),
        (10, 10, .seconds(65), "sent 10, acked 10, 0/s, 1m05s"),
        (10, 10, .seconds(3725), "sent 10, acked 10, 0/s, 62m05s"),
    ])
    func theLineSaysSentAckedRateAndElapsed(_ sent: Int, _ acked: Int, _ elapsed: Duration, _ text: String) {
        #expect(SendProgress.text(ChatPublisher.Status(sent: sent, acknowledged: acked), elapsed: elapsed) == text)
    }
}
