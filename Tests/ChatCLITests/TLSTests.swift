import ChatTestSupport
import Foundation
import Testing

/// `wss://` end to end with certificates made by openssl: what works, and one clear line (and no retry
/// loop) for each way a certificate can be wrong.
@Suite(.timeLimit(.minutes(2)))
struct TLSTests {
    private static func serve(_ certificates: TestCertificates, certificate: String) async throws -> ServeProcess {
        try await ServeProcess.start(["--tls-cert", certificate, "--tls-key", certificates.key])
    }

    /// `wss://localhost:PORT/ws`: certificates name localhost.
    private static func url(_ serve: ServeProcess) -> String {
        "wss://localhost:\(serve.port)/ws"
    }

    @Test func aTrustedCertificateCarriesTheChat() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let serve = try await Self.serve(certificates, certificate: certificates.valid)
        #expect(serve.listeningLine.hasPrefix("listening on wss://127.0.0.1:"))
        let url = Self.url(serve)
        let tail = try ChatProcess(["tail", url, "--ca-file", certificates.caCertificate, "-n", "1", "--count", "1"])
        let send = try ChatProcess(["send", url, "--ca-file", certificates.caCertificate, "over TLS ✓"])
        #expect(await send.exitCode() == 0)
        #expect(await tail.exitCode() == 0)
        #expect(await ChatProcess.collect(tail.stdout).first?.hasSuffix("over TLS ✓") == true)
        // By address too: the certificate names 127.0.0.1.
        let byAddress = try ChatProcess(["send", serve.url, "--ca-file", certificates.caCertificate, "x"])
        #expect(await byAddress.exitCode() == 0)
        #expect(await serve.stop() == 0)
    }

    @Test(arguments: [
        (
            "valid", false,
            "the server's certificate is not signed by an authority this machine trusts (pass its CA with --ca-file, or skip the check with --insecure)"
        ),
        ("expired", true, "the server's certificate expired on 2020-01-02"),
        ("other", true, "the server's certificate is not valid for localhost"),
        (
            "self", true,
            "the server's certificate is not signed by an authority this machine trusts (pass its CA with --ca-file, or skip the check with --insecure)"
        ),
    ])
    func anUntrustedCertificateIsOneLineAndNoRetry(_ name: String, _ withCA: Bool, _ reason: String) async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let certificate = name == "valid" ? certificates.valid : certificates.path("\(name).pem")
        let serve = try await Self.serve(certificates, certificate: certificate)
        let url = Self.url(serve)
        let ca = withCA ? ["--ca-file", certificates.caCertificate] : []
        // tail retries what may pass; a certificate will not, so it stops at once too.
        for command in ["send", "tail"] {
            let process = try ChatProcess([command, url] + ca + (command == "send" ? ["x"] : []))
            #expect(await process.exitCode() == 69)
            let errors = await ChatProcess.collect(process.stderr)
            #expect(errors == ["chat: error: cannot connect securely to wss://localhost:\(serve.port): \(reason)"])
        }
        #expect(await serve.stop() == 0)
    }

    @Test func insecureSkipsTheCheckAndSaysSo() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let serve = try await Self.serve(certificates, certificate: certificates.selfSigned)
        let send = try ChatProcess(["send", Self.url(serve), "--insecure", "x"])
        #expect(await send.exitCode() == 0)
        let errors = await ChatProcess.collect(send.stderr)
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("chat: warning: --insecure: ") == true)
        #expect(await serve.stop() == 0)
    }

    @Test func aCertificateThatCannotBeLoadedStopsTheServerWithOneLine() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let serve = try ChatProcess([
            "serve", "--port", "0", "--tls-cert", certificates.key, "--tls-key", certificates.key,
        ])
        #expect(await serve.exitCode() == 1)
        #expect(
            await ChatProcess.collect(serve.stderr) == [
                "chat: error: cannot load the certificate \(certificates.key): not a PEM certificate"
            ]
        )
    }
}
