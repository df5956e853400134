import ChatTransport
import NIOSSL

/// The server's certificate chain and key (`chat serve --tls-cert --tls-key`), loaded once at start: the
/// server then speaks only `wss://` and `https://`.
public struct ServerTLS: Sendable {
    let context: NIOSSLContext

    /// Loads PEM files; a file that cannot be read or parsed fails here, before the server binds.
    public static func load(certificate: String, key: String) throws(ChatServerError) -> ServerTLS {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw .tlsFailed("cannot load the certificate \(certificate): \(TLSErrorText.describe(error))")
        }
        guard !chain.isEmpty else { throw .tlsFailed("no certificate in \(certificate)") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw .tlsFailed("cannot load the private key \(key): \(TLSErrorText.describe(error))")
        }
        do {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(privateKey)
            )
            return ServerTLS(context: try NIOSSLContext(configuration: configuration))
        } catch {
            throw .tlsFailed("cannot use \(certificate) with \(key): \(TLSErrorText.describe(error))")
        }
    }
}
