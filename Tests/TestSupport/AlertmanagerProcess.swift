import Foundation

/// Thrown when Debian's prometheus-alertmanager is not installed (scripts/test installs it).
public struct AlertmanagerMissing: Error, CustomStringConvertible {
    public var description: String { "prometheus-alertmanager not installed: scripts/test installs it" }
}

/// A real Alertmanager (Debian's prometheus-alertmanager) on loopback, routing to a test receiver.
public final class AlertmanagerProcess {
    public let port: UInt16
    let process: TestProcess
    let directory: URL

    public static var binary: String? {
        ["/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// With `config` (its receiver URLs as given), or a test route to `receiverURL`.
    public init(receiverURL: String, config given: String? = nil) throws {
        guard let binary = Self.binary else { throw AlertmanagerMissing() }
        port = LoopbackListener.closedPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config =
            given ?? """
                route:
                  receiver: test
                  group_by: [alertname, cluster]
                  group_wait: 0s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: test
                    webhook_configs:
                      - url: \(receiverURL)
                        send_resolved: true
                """
        try config.write(to: directory.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        process = TestProcess(
            binary,
            [
                "--config.file=\(directory.path)/alertmanager.yml", "--storage.path=\(directory.path)",
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
            ])
        process.process.standardOutput = FileHandle.nullDevice
        process.process.standardError = FileHandle.nullDevice
        try process.start()
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
