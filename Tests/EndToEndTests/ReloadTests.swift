import Agent
import AgentTestSupport
import Alerting
import Config
import Foundation
import Glibc
import TestSupport
import Testing

/// A config file a test rewrites, and the source a reload reads it from (as `beetlewatch run --config.file` does).
struct ReloadableConfig: Sendable {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-reload-\(UUID().uuidString).yml").path

    func write(_ yaml: String) throws {
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    }

    var source: @Sendable () throws -> AgentConfig {
        { [path] in
            try ConfigLoader.load(
                flags: ["statsd.listen-udp": "127.0.0.1:0", "web.listen-address": "127.0.0.1:0"], environment: [:],
                file: (path, try String(contentsOfFile: path, encoding: .utf8)))
        }
    }

    func start() throws -> TestAgent {
        let initial = try source()
        return try TestAgent.start(watching: false, reloadingFrom: source) { $0 = initial }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func alertsDocument(_ port: UInt16) async throws -> AlertsDocument {
    try JSONDecoder().decode(
        AlertsDocument.self, from: Data(try await HTTPTestClient.request("http://127.0.0.1:\(port)/api/v1/alerts").body.utf8))
}

func metricSamples(_ port: UInt16) async throws -> [String: Double] {
    PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(port)/metrics").body)
}

/// Polls /api/v1/alerts until the alert is (or is no longer) pending or firing; false after 15 s.
func waitForAlert(_ port: UInt16, _ name: AlertName, active: Bool) async throws -> Bool {
    func isActive(_ document: AlertsDocument) -> Bool { document.alerts.contains { $0.alertname == name.rawValue } }
    let seen = try await Poll.until(
        within: 15, every: .milliseconds(50), look: { try await alertsDocument(port) }, done: { isActive($0) == active })
    return isActive(seen) == active
}

@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct ReloadTests {
    /// Rules, receivers and targets change on `POST /-/reload`; series, alert state and probe results stay.
    @Test(.tags(.wallClock)) func reloadAppliesTheNewConfigAndKeepsState() async throws {
        let replicas = (0..<3).map { FakeReplica(replica: UInt8($0)) }
        let seventh = FakeReplica(cluster: 7)
        let recorder = WebhookRecorder()
        let file = ReloadableConfig()
        defer {
            replicas.forEach { $0.close() }
            seventh.close()
            recorder.close()
            file.remove()
        }
        let cluster = "tigerbeetle: {cluster: 0, addresses: \"\(replicas.map(\.address).joined(separator: ","))\"}"
        let base = """
            \(cluster)
            probe: {interval: 200ms}
            web: {enable-lifecycle: true}
            rules: {TigerBeetleReplicaUnreachable: {for: 0s}}

            """
        try file.write(base)
        let test = try file.start()
        defer { test.stop() }
        let port = test.agent.webPort
        try await test.sendCapture()

        replicas[2].close()
        #expect(try await waitForAlert(port, .replicaUnreachable, active: true))
        // Firing, not just pending (no alert fires before its condition held one probe interval).
        let firingBy = Date().addingTimeInterval(10)
        while try await alertsDocument(port).alerts.first(where: { $0.alertname == AlertName.replicaUnreachable.rawValue })?.state
            != "firing",
            Date() < firingBy
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        let before = try await alertsDocument(port).alerts.first { $0.alertname == AlertName.replicaUnreachable.rawValue }
        #expect(before?.state == "firing")
        let samplesBefore = try await metricSamples(port)
        #expect(recorder.received.isEmpty)

        // Add a receiver and a second cluster; loosen another rule.
        try file.write(
            base.replacingOccurrences(
                of: "tigerbeetle: {", with: "tigerbeetle: {clusters: [{cluster: 7, addresses: \"\(seventh.address)\"}], ") + """
                    receivers: [{name: oncall, url: "http://127.0.0.1:\(recorder.port)/hook"}]

                    """)
        let reply = try await HTTPTestClient.request("http://127.0.0.1:\(port)/-/reload", method: "POST")
        #expect(reply.status == 200, "\(reply.body)")
        #expect(reply.body == "config reloaded\n")

        // The new receiver hears of the alert already firing; the alert is the same one (not re-fired).
        try await eventually { !messages(recorder, alertname: .replicaUnreachable).isEmpty }
        let firing = try #require(messages(recorder, alertname: .replicaUnreachable).first)
        #expect(firing.status == "firing")
        #expect(firing.receiver == "oncall")
        let after = try await alertsDocument(port).alerts.first { $0.alertname == AlertName.replicaUnreachable.rawValue }
        #expect(after != nil)
        #expect(after?.activeAt == before?.activeAt)
        #expect(after?.firedAt == before?.firedAt)

        // Series are untouched, and the reload is reported.
        let samplesAfter = try await metricSamples(port)
        #expect(samplesAfter["beetlewatch_statsd_series"] == samplesBefore["beetlewatch_statsd_series"])
        #expect(samplesAfter["beetlewatch_statsd_datagrams_total"] == samplesBefore["beetlewatch_statsd_datagrams_total"])
        #expect(samplesAfter["beetlewatch_config_last_reload_successful"] == 1)
        #expect(samplesAfter["beetlewatch_config_reloads_total"] == 1)
        #expect(
            samplesAfter["beetlewatch_config_last_reload_success_timestamp_seconds"]! > samplesBefore[
                "beetlewatch_config_last_reload_success_timestamp_seconds"]!)

        // Both clusters are watched now; the first one's replicas kept their probe results (still healthy, not unknown).
        let status = try await HTTPTestClient.request("http://127.0.0.1:\(port)/api/v1/status").body
        #expect(status.contains("\"\(String(repeating: "0", count: 31))7\""), "cluster 7 is watched")
        #expect(test.agent.config.watchedClusters.map(\.name) == ["0", "7"])

        // Disabling the rule resolves its alert, and the receiver is told.
        try file.write(
            base.replacingOccurrences(of: "{for: 0s}", with: "{enabled: false}") + """
                receivers: [{name: oncall, url: "http://127.0.0.1:\(recorder.port)/hook"}]

                """)
        #expect(throws: Never.self) { try test.agent.reload(trigger: "test").get() }
        try await eventually { messages(recorder, alertname: .replicaUnreachable).contains { $0.status == "resolved" } }
        #expect(messages(recorder, alertname: .replicaUnreachable).last?.status == "resolved")
        #expect(try await waitForAlert(port, .replicaUnreachable, active: false))
    }

    /// An invalid file is refused with the field named; the running configuration stays in force.
    @Test func anInvalidConfigIsRefusedAndTheOldOneStays() async throws {
        let replica = FakeReplica()
        let file = ReloadableConfig()
        defer {
            replica.close()
            file.remove()
        }
        try file.write("tigerbeetle: {cluster: 3, addresses: \"\(replica.address)\"}\nweb: {enable-lifecycle: true}\n")
        let test = try file.start()
        defer { test.stop() }
        let port = test.agent.webPort

        for (yaml, field) in [
            ("statsd: {ttl: 5x}\nweb: {enable-lifecycle: true}\n", "statsd.ttl"),
            ("tigerbeetle: [\n", "(file)"),
            ("web: {enable-lifecycle: true, config: {file: /nonexistent/web.yml}}\n", "web.config.file"),
        ] {
            try file.write(yaml)
            let reply = try await HTTPTestClient.request("http://127.0.0.1:\(port)/-/reload", method: "POST")
            #expect(reply.status == 500)
            #expect(reply.body.contains(field), "\(reply.body)")
            let samples = try await metricSamples(port)
            #expect(samples["beetlewatch_config_last_reload_successful"] == 0)
            #expect(test.agent.config.watchedClusters.map(\.name) == ["3"], "the old configuration is in force")
        }
        #expect(try await metricSamples(port)["beetlewatch_config_reload_failures_total"] == 3)

        // A restart-only change is applied at the next start, and does not fail the reload.
        try file.write(
            "tigerbeetle: {cluster: 4, addresses: \"\(replica.address)\"}\nweb: {enable-lifecycle: true}\nstatsd: {mapping: statsd_exporter}\n"
        )
        #expect(try await HTTPTestClient.request("http://127.0.0.1:\(port)/-/reload", method: "POST").status == 200)
        let samples = try await metricSamples(port)
        #expect(samples["beetlewatch_config_last_reload_successful"] == 1)
        #expect(samples["beetlewatch_config_reload_failures_total"] == 3)
        #expect(test.agent.config.watchedClusters.map(\.name) == ["4"])
        #expect(samples.keys.contains { $0.hasPrefix("beetlewatch_build_info") && $0.contains("mapping=\"tigerbeetle\"") })
    }

    @Test func theReloadEndpointIsGatedLikePrometheus() async throws {
        let file = ReloadableConfig()
        defer { file.remove() }
        try file.write("log: {level: info}\n")
        let test = try file.start()
        defer { test.stop() }
        let url = "http://127.0.0.1:\(test.agent.webPort)/-/reload"
        let off = try await HTTPTestClient.request(url, method: "POST")
        #expect(off.status == 403)
        #expect(off.body.contains("--web.enable-lifecycle"))
        try file.write("web: {enable-lifecycle: true}\n")
        #expect(throws: Never.self) { try test.agent.reload(trigger: "test").get() }
        #expect(try await HTTPTestClient.request(url, method: "PUT").status == 200)
        let get = try await HTTPTestClient.request(url)
        #expect(get.status == 405)
        #expect(get.headers["allow"] == "POST, PUT")
    }
}
