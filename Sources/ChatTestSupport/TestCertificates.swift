public import Foundation

/// Certificates made with `openssl` for the TLS tests: a private CA and, signed by it, a certificate for
/// localhost/127.0.0.1, one for another host and one that expired in 2020; plus a self-signed one.
public struct TestCertificates: Sendable {
    public let directory: URL

    public func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }
    public var caCertificate: String { self.path("ca.pem") }
    public var key: String { self.path("server.key") }
    public var valid: String { self.path("server.pem") }
    public var otherHost: String { self.path("other.pem") }
    public var expired: String { self.path("expired.pem") }
    public var selfSigned: String { self.path("self.pem") }

    /// Makes them in a new temporary directory (remove it with `remove()`).
    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chat-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", Self.script, "make-certs", directory.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestServerError(description: "openssl could not make the test certificates")
        }
        return TestCertificates(directory: directory)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: self.directory)
    }

    private static let script = #"""
        #!/bin/sh
        # Makes the certificates the TLS tests use, in the directory given: a private CA and, signed by it, a
        # certificate for localhost/127.0.0.1, one for another host and one that expired in 2020; and a
        # self-signed certificate (an unknown CA).
        set -eu
        cd "$1"
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        key ca.key
        openssl req -x509 -key ca.key -out ca.pem -days 3 -subj "/CN=chat test CA" 2>/dev/null
        key server.key
        openssl req -new -key server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > local.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3 -extfile local.ext -out server.pem 2>/dev/null
        printf 'subjectAltName=DNS:other.example\n' > other.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3 -extfile other.ext -out other.pem 2>/dev/null
        mkdir -p issued
        : > issued/index.txt
        echo 01 > issued/serial
        cat > ca.cnf <<CONF
        [ca]
        default_ca = test
        [test]
        database = issued/index.txt
        serial = issued/serial
        new_certs_dir = issued
        default_md = sha256
        policy = any
        [any]
        commonName = supplied
        CONF
        openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in server.csr -out expired.pem -notext \
            -startdate 20200101000000Z -enddate 20200102000000Z -extfile local.ext 2>/dev/null
        openssl req -x509 -key server.key -out self.pem -days 3 -subj "/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
        """#
}
