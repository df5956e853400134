import ChatTransport
import NIOSSL

/// How a client checks a `wss://` server: against the system's trust store, plus a private CA
/// (`--ca-file`), or not at all (`--insecure`).
public struct ClientTLS: Sendable, Hashable {
    /// A PEM file of extra CA certificates to trust.
    public var caFile: String?
    /// Skip verification entirely (the CLI warns on stderr).
    public var insecure: Bool

    public init(caFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.insecure = insecure
    }

    /// The name a certificate is checked against: certificates name hosts, not addresses, so an IP
    /// literal is checked against the address instead (nil).
    static func serverHostname(for host: String) -> String? {
        host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
    }

    func context() throws(ChatClientError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile = self.caFile {
            configuration.additionalTrustRoots = [.file(caFile)]
        }
        if self.insecure {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .badOption("cannot use the CA file \(self.caFile ?? "?"): \(TLSErrorText.describe(error))")
        }
    }
}
