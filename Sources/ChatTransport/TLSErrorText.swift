import Foundation
import NIOSSL

/// One readable line for a TLS failure, instead of BoringSSL's error stack.
package enum TLSErrorText {
    package static func describe(_ error: any Error) -> String {
        switch error {
        case NIOSSLError.failedToLoadCertificate: return "not a PEM certificate"
        case NIOSSLError.failedToLoadPrivateKey: return "not a PEM private key"
        case NIOSSLError.noSuchFilesystemObject: return "no such file"
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "the certificate is not for this host"
        case NIOSSLError.handshakeFailed(let cause): return "TLS handshake failed: \(Self.reasons(cause))"
        case let error as BoringSSLError: return Self.reasons(error)
        default: return "\(error)"
        }
    }

    /// Whether the handshake failed because the certificate did not verify (expired, unknown CA, …).
    package static func isVerificationFailure(_ error: any Error) -> Bool {
        guard case NIOSSLError.handshakeFailed(let cause) = error else { return false }
        return Self.reasons(cause).contains("CERTIFICATE_VERIFY_FAILED")
    }

    /// "Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at
    /// handshake.cc:320" → "CERTIFICATE_VERIFY_FAILED".
    private static func reason(_ description: String) -> String {
        guard let start = description.range(of: "error:") else { return description }
        let fields = description[start.upperBound...].split(separator: ":", maxSplits: 3)
        guard fields.count == 4 else { return description }
        let reason = fields[3]
        return String(reason[..<(reason.range(of: " at ")?.lowerBound ?? reason.endIndex)])
    }

    private static func reasons(_ error: BoringSSLError) -> String {
        switch error {
        case .sslError(let stack), .unknownError(let stack):
            let reasons = stack.map { Self.reason("\($0)") }
            return reasons.isEmpty ? "\(error)" : reasons.joined(separator: ", ")
        default:
            return "\(error)"
        }
    }
}
