import Agent
import Alerting
import Config
import Foundation
import Glibc
import TestSupport
import Testing

/// The built binary running in the background on loopback ports the kernel picks (port 0), learnt from
/// its "beetlewatch started" log line: no race with other tests for a port.
final class RunningBeetlewatch {
    let process: TestProcess
    private(set) var webPort: UInt16 = 0
    private(set) var statsdPort: UInt16 = 0
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-\(UUID().uuidString).log")

    /// - Parameter shell: a bash script that ends by running `"$0" "$@"` (the binary and its arguments),
    ///   to start it under limits (`ulimit`); nil runs the binary directly.
    init(_ arguments: [String], shell: String? = nil) throws {
        let all = ["run", "--web.listen-address", "127.0.0.1:0", "--statsd.listen-udp", "127.0.0.1:0"] + arguments
        if let shell {
            process = TestProcess("/bin/bash", ["-c", shell, BeetlewatchBinary.path] + all)
        } else {
            process = TestProcess(BeetlewatchBinary.path, all)
        }
        process.process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.process.standardError = try FileHandle(forWritingTo: log)
        try process.start()
    }

    var base: String { "http://127.0.0.1:\(webPort)" }

    func waitUntilServing() async throws {
        let deadline = Date().addingTimeInterval(30)
        while true {
            if webPort != 0, (try? await HTTPTestClient.request(base + "/health").status) == 200 { return }
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            guard Date() < deadline, process.isRunning else { throw CommandFailure("beetlewatch did not start: \(text)") }
            if webPort == 0, let started = text.split(separator: "\n").first(where: { $0.contains("beetlewatch started") }) {
                webPort = Self.port(in: started, after: "web=http://127.0.0.1:")
                statsdPort = Self.port(in: started, after: "statsd=127.0.0.1:")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The port after `prefix` in a log line.
    private static func port(in line: Substring, after prefix: String) -> UInt16 {
        guard let range = line.range(of: prefix) else { return 0 }
        return UInt16(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    func samples() async throws -> [String: Double] {
        PrometheusText.samples(try await HTTPTestClient.request(base + "/metrics").body)
    }

    /// Scrapes every 50 ms until `done` holds, for `seconds` at most; the last page's samples.
    func samples(within seconds: Int = 5, until done: ([String: Double]) -> Bool) async throws -> [String: Double] {
        var samples = try await samples()
        for _ in 0..<(seconds * 20) where !done(samples) {
            try await Task.sleep(for: .milliseconds(50))
            samples = try await self.samples()
        }
        return samples
    }

    func send(_ datagram: String) throws {
        try StatsDSender(to: HostPort(host: "127.0.0.1", port: statsdPort)).send(Array(datagram.utf8))
    }

    func signal(_ number: Int32) {
        process.signal(number)
    }

    /// Sends SIGTERM; returns the exit status and how long the process took to exit.
    func terminate() -> (status: Int32, seconds: Double) {
        let start = Date()
        signal(SIGTERM)
        process.waitUntilExit()
        return (process.terminationStatus, Date().timeIntervalSince(start))
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(at: log)
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct LifecycleTests {
    /// SIGHUP re-reads the file; a bad file is refused, reported, and the process runs on.
    @Test(.tags(.wallClock)) func sighupReloadsAndRefusesABadFile() async throws {
        let replica = LoopbackListener()
        let file = ReloadableConfig()
        defer {
            replica.close()
            file.remove()
        }
        try file.write("tigerbeetle: {cluster: 1, addresses: \"\(replica.address)\"}\n")
        let agent = try RunningBeetlewatch(["--config.file", file.path])
        try await agent.waitUntilServing()

        try file.write(
            "tigerbeetle: {cluster: 1, addresses: \"\(replica.address)\", clusters: [{cluster: 2, addresses: \"\(replica.address)\"}]}\n")
        agent.signal(SIGHUP)
        let clusterTwo = String(repeating: "0", count: 31) + "2"
        var status = ""
        for _ in 0..<100 where !status.contains(clusterTwo) {
            try await Task.sleep(for: .milliseconds(50))
            status = try await HTTPTestClient.request(agent.base + "/api/v1/status").body
        }
        #expect(status.contains(clusterTwo), "SIGHUP added cluster 2")
        #expect(try await agent.samples()["beetlewatch_config_reloads_total"] == 1)

        try file.write("probe: {interval: fast}\n")
        agent.signal(SIGHUP)
        let samples = try await agent.samples { $0["beetlewatch_config_reloads_total"] == 2 }
        #expect(samples["beetlewatch_config_last_reload_successful"] == 0)
        #expect(agent.process.isRunning)
        #expect(try await HTTPTestClient.request(agent.base + "/api/v1/status").body.contains(clusterTwo), "the old configuration stays")
        let exit = agent.terminate()
        #expect(exit.status == 0)
    }

    /// Without CAP_NET_ADMIN the kernel caps the receive buffer at net.core.rmem_max (most containers): on the default
    /// the agent says so once at info, and serves; a size set on purpose and not granted is a warning.
    @Test(.enabled(if: Self.rmemMax.map { $0 < AgentConfig.defaultStatsDReadBuffer } ?? false))
    func aReceiveBufferCappedByTheKernelIsLoggedByWhoAskedForIt() async throws {
        // Without CAP_NET_ADMIN, as in a container: SO_RCVBUFFORCE is refused, SO_RCVBUF capped. (Root drops it for the
        // child; any other user has none.)
        let unprivileged = getuid() == 0 ? "exec setpriv --bounding-set -net_admin --inh-caps -net_admin \"$0\" \"$@\"" : nil
        for (arguments, level) in [([String](), "info"), (["--statsd.read-buffer", "48MiB"], "warning")] {
            let agent = try RunningBeetlewatch(arguments, shell: unprivileged)
            try await agent.waitUntilServing()
            let granted = try #require(try await agent.samples()["beetlewatch_statsd_receive_buffer_bytes"])
            let lines = try String(contentsOf: agent.log, encoding: .utf8).split(separator: "\n")
            let capped = lines.filter { $0.contains("StatsD receive buffer smaller than asked") }
            #expect(capped.count == 1, "\(lines)")
            #expect(capped.allSatisfy { $0.contains(" \(level) ") }, "\(capped)")
            #expect(granted / 2 == Double(Self.rmemMax ?? 0), "granted \(granted) (the kernel reports twice the size)")
            #expect(agent.terminate().status == 0)
        }
    }

    static var rmemMax: Int? {
        (try? String(contentsOfFile: "/proc/sys/net/core/rmem_max", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Fires an alert at a receiver that answers after `receiverDelay` seconds, sends SIGTERM 300 ms
    /// later (the webhook under way), and returns how the process ended and what the receiver got.
    func terminateDuringAWebhook(receiverDelay: Double, shutdownTimeout: String) async throws -> (
        status: Int32, seconds: Double, delivered: Int
    ) {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        recorder.delay.withLock { $0 = receiverDelay }
        let agent = try RunningBeetlewatch([
            "--alert.webhook-url", "http://127.0.0.1:\(recorder.port)/", "--shutdown.timeout", shutdownTimeout,
        ])
        try await agent.waitUntilServing()
        try agent.send("tb.replica_status:1|g|#cluster:\(clusterHex),replica:0")
        // Fired (no alert fires before its condition held one probe interval), then its webhook under way.
        let firingBy = Date().addingTimeInterval(10)
        while Date() < firingBy, try await !HTTPTestClient.request(agent.base + "/api/v1/alerts").body.contains("\"firing\"") {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        let exit = agent.terminate()
        print(
            "SIGTERM with a receiver answering in \(receiverDelay) s, --shutdown.timeout \(shutdownTimeout): exit \(exit.status) after \(String(format: "%.2f", exit.seconds)) s, \(recorder.received.count) delivered"
        )
        return (exit.status, exit.seconds, recorder.received.count)
    }

    /// SIGTERM lets a notification under way finish, then exits.
    @Test(.tags(.wallClock)) func sigtermDrainsPendingNotifications() async throws {
        let exit = try await terminateDuringAWebhook(receiverDelay: 1, shutdownTimeout: "5s")
        #expect(exit.status == 0)
        #expect(exit.delivered == 1, "the webhook under way at SIGTERM was delivered")
        #expect(exit.seconds < 5)
    }

    /// A receiver that never answers cannot hold the process past --shutdown.timeout.
    @Test(.tags(.wallClock)) func sigtermExitsWithinTheShutdownTimeout() async throws {
        let exit = try await terminateDuringAWebhook(receiverDelay: 30, shutdownTimeout: "2s")
        #expect(exit.status == 0)
        #expect(exit.seconds < 3.5, "exited \(exit.seconds) s after SIGTERM with a 2 s shutdown timeout")
        #expect(exit.seconds > 1, "it waited for the receiver")
    }
}
