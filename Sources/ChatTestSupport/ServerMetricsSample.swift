import Foundation

/// The numbers of a server's `GET /metrics`, by series name (`name` or `name{labels}`).
public struct ServerMetricsSample: Sendable {
    public let values: [String: Double]

    /// The raw answer of the server on 127.0.0.1:`port` to `GET /metrics`, head and body.
    public static func rawResponse(port: Int) async throws -> String {
        try await rawHTTPExchange(port: port, request: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    }

    /// The samples of a response's Prometheus text; nil when a line is neither a comment nor `series value`.
    public static func parse(_ response: String) -> ServerMetricsSample? {
        guard let bodyStart = response.range(of: "\r\n\r\n")?.upperBound else { return nil }
        var values: [String: Double] = [:]
        for line in response[bodyStart...].split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { return nil }
            values[String(parts[0])] = value
        }
        return ServerMetricsSample(values: values)
    }

    /// Scrapes the server on 127.0.0.1:`port`.
    public static func scrape(port: Int) async throws -> ServerMetricsSample {
        let response = try await Self.rawResponse(port: port)
        guard let sample = Self.parse(response) else {
            throw TestServerError(description: "GET /metrics is not Prometheus text: \(response.prefix(500))")
        }
        return sample
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
