import Foundation

/// A self-signed certificate for 127.0.0.1 and localhost, made by `openssl` in a fresh temporary directory.
public struct TestCertificate: Sendable {
    public let directory: URL
    public var certificatePath: String { directory.appendingPathComponent("server.crt").path }
    public var keyPath: String { directory.appendingPathComponent("server.key").path }

    public static func make(commonName: String = "beetlewatch-test") throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = TestCertificate(directory: directory)
        let result = try Command.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", certificate.keyPath, "-out", certificate.certificatePath, "-days", "2",
                "-subj", "/CN=\(commonName)", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ])
        guard result.status == 0 else { throw CommandFailure("openssl req failed: \(result.stderr)") }
        return certificate
    }

    /// Writes `text` into the certificate's directory; returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
