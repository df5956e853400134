import ChatBench
import Foundation

/// `chat bench`'s text report: one labelled line per figure.
enum BenchReport {
    static func text(_ result: BenchResult, rate: String, window: Int, duration: Double) -> String {
        var lines: [String] = []
        func line(_ label: String, _ value: String) {
            lines.append(label.padding(toLength: 14, withPad: " ", startingAt: 0) + value)
        }
        if result.mode == "connections" {
            lines.append("chat bench \(result.url): \(result.connectionsRequested) idle connections")
            line(
                "connections",
                "\(result.connections) of \(result.connectionsRequested) in \(Self.fixed(result.connectSeconds, 2)) s"
            )
            line("live", "\(result.live ?? 0) answered a ping after all were open")
            if let server = result.server, let before = server.rssBeforeBytes, let per = server.rssPerConnectionBytes {
                line(
                    "server",
                    "RSS \(Self.mebibytes(before)) before, \(Self.mebibytes(server.rssBytes)) with the connections: "
                        + "\(Self.fixed(per / 1024, 2)) KiB per connection"
                )
            }
            return lines.joined(separator: "\n")
        }
        let pace = rate == "max" ? "max rate (window \(window))" : "\(rate) msg/s"
        lines.append(
            "chat bench \(result.url): \(Self.count(result.subscribers, "subscriber")), "
                + "\(Self.count(result.publishers, "publisher")), \(Self.count(result.rooms, "room")), \(pace), \(result.size)-byte texts, \(Self.fixed(duration, 1)) s"
        )
        line("connections", "\(result.connections) in \(Self.fixed(result.connectSeconds, 2)) s")
        line(
            "sent",
            "\(result.messagesSent) messages (\(Int((Double(result.messagesSent) / max(result.sendSeconds, 0.001)).rounded()))/s)"
        )
        line(
            "deliveries",
            "\(result.deliveriesExpected) expected, \(result.deliveriesReceived) received, \(result.deliveriesLost) lost"
        )
        line("delivered", "\(Int(result.deliveredPerSecond.rounded())) msgs/s")
        if let latency = result.latency {
            line(
                "latency",
                "p50 \(Self.fixed(latency.p50, 2)) ms, p90 \(Self.fixed(latency.p90, 2)), p99 \(Self.fixed(latency.p99, 2)), "
                    + "p99.9 \(Self.fixed(latency.p999, 2)), max \(Self.fixed(latency.max, 2))"
            )
        }
        if let server = result.server {
            let perDelivery = server.cpuMicrosecondsPerDelivery.map { ", \(Self.fixed($0, 2)) µs per delivery" } ?? ""
            line(
                "server",
                "CPU \(Self.fixed(server.cpuSeconds, 2)) s (\(Int((server.cpuShare * 100).rounded())) % of a core)\(perDelivery), "
                    + "RSS \(Self.mebibytes(server.rssBytes))"
            )
        }
        if result.closedEarly > 0 { line("closed", "\(result.closedEarly) connections were closed by the server") }
        return lines.joined(separator: "\n")
    }

    /// `1 room`, `2 rooms`.
    private static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    private static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    private static func mebibytes(_ bytes: Int) -> String { "\(Self.fixed(Double(bytes) / 1_048_576, 1)) MiB" }
}
