import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Says why a server's certificate did not verify. BoringSSL only reports CERTIFICATE_VERIFY_FAILED, so
/// the certificate is fetched again over a connection that does not check it, and looked at.
enum CertificateDiagnosis {
    /// `expired on 2020-01-02`, or `not signed by a trusted authority …`.
    static func explain(host: String, port: Int, serverHostname: String?, group: any EventLoopGroup) async -> String {
        let unknownAuthority =
            "the server's certificate is not signed by an authority this machine trusts "
            + "(pass its CA with --ca-file, or skip the check with --insecure)"
        guard let certificate = await Self.fetch(host: host, port: port, serverHostname: serverHostname, group: group)
        else { return unknownAuthority }
        let now = time(nil)
        if certificate.notValidAfter < now {
            return "the server's certificate expired on \(Self.date(certificate.notValidAfter))"
        }
        if certificate.notValidBefore > now {
            return "the server's certificate is not valid before \(Self.date(certificate.notValidBefore))"
        }
        return unknownAuthority
    }

    private static func fetch(
        host: String,
        port: Int,
        serverHostname: String?,
        group: any EventLoopGroup
    ) async -> NIOSSLCertificate? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let promise = group.next().makePromise(of: NIOSSLCertificate?.self)
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: promise))
                    }
                }
                .connect(host: host, port: port)
                .get()
            channel.closeFuture.whenComplete { _ in promise.succeed(nil) }
            let certificate = try await promise.futureResult.get()
            try? await channel.close()
            return certificate
        } catch {
            promise.succeed(nil)
            return nil
        }
    }

    private static func date(_ time: time_t) -> String {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }

    /// Hands over the peer's certificate once the handshake completed.
    private final class HandshakeWatcher: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<NIOSSLCertificate?>

        init(promise: EventLoopPromise<NIOSSLCertificate?>) {
            self.promise = promise
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                self.promise.succeed(try? context.pipeline.syncOperations.nioSSL_peerCertificate())
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
