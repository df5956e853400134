import Foundation

/// The numbers of a server's `GET /metrics`, by series name (`name` or `name{labels}`).
public struct ServerMetricsSample: Sendable {
    public let values: [String: Double]

    /// Scrapes the server on 127.0.0.1:`port`.
    public static func scrape(port: Int) async throws -> ServerMetricsSample {
        let response = try await rawHTTPExchange(port: port, request: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        guard let bodyStart = response.range(of: "\r\n\r\n")?.upperBound else {
            return ServerMetricsSample(values: [:])
        }
        var values: [String: Double] = [:]
        for line in response[bodyStart...].split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return ServerMetricsSample(values: values)
    }

    /// Scrapes until `condition` holds, each scrape after the last answered; throws `TimeoutError` after
    /// `timeout`. The server has no way to announce these moments, so polling its metrics is the event.
    public static func wait(
        port: Int,
        timeout: Duration,
        until condition: @escaping @Sendable (ServerMetricsSample) -> Bool
    ) async throws -> ServerMetricsSample {
        try await withTimeout(timeout) {
            while true {
                let sample = try await Self.scrape(port: port)
                if condition(sample) { return sample }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// The value of `name`, 0 when absent.
    public subscript(_ name: String) -> Double { self.values[name] ?? 0 }
}
