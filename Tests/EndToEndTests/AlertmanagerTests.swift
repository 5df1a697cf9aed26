import Agent
import AgentTestSupport
import Alerting
import Foundation
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd, .wallClock)) struct AlertmanagerTests {
    /// A real Alertmanager (with `config`, else a test route to `recorder`), ready, and an agent pushing to it that
    /// has received the recorded capture.
    func alertmanagerAndAgent(_ recorder: WebhookRecorder, config: String? = nil) async throws -> (
        AlertmanagerProcess, Agent, [FakeReplica]
    ) {
        let alertmanager = try AlertmanagerProcess(receiverURL: "http://127.0.0.1:\(recorder.port)/am", config: config)
        try await eventually(20) { (try? Data(contentsOf: URL(string: alertmanager.url + "/-/ready")!)) != nil }
        let (agent, replicas) = try alertingAgent {
            $0.alertmanagerURLs = [alertmanager.url]
            $0.alertRules.settings[.viewChanged]?.enabled = false
        }
        try await TestAgent.sendCapture(to: agent)
        return (alertmanager, agent, replicas)
    }

    /// beetlewatch pushes to a real Alertmanager, which delivers firing and then resolved to the receiver.
    @Test func alertmanagerDeliversPushedAlertsAndTheirResolution() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        let (alertmanager, agent, replicas) = try await alertmanagerAndAgent(recorder)
        defer {
            agent.stop()
            replicas.forEach { $0.close() }
            alertmanager.stop()
        }
        try TestAgent.send("tb.replica_status:3|g|#cluster:\(clusterHex),replica:0", to: agent)

        try await eventually(20) { !messages(recorder, alertname: .replicaStatusAbnormal).isEmpty }
        let firing = try #require(messages(recorder, alertname: .replicaStatusAbnormal).first)
        #expect(firing.receiver == "test")
        #expect(firing.status == "firing")
        #expect(firing.alerts.count == 1)
        let labels = [
            "alertname": "TigerBeetleReplicaStatusAbnormal", "cluster": clusterHex, "replica": "0", "severity": "critical",
            "status": "recovering_head",
        ]
        #expect(firing.alerts[0].labels == labels)
        // Alertmanager's own fingerprint of the labels equals beetlewatch's.
        #expect(firing.alerts[0].fingerprint == Fingerprint.of(labels))
        #expect(firing.alerts[0].generatorURL == "http://beetlewatch.test:9917/api/v1/alerts")
        #expect(firing.alerts[0].annotations["summary"] == "TigerBeetle replica 0 of cluster 0 is recovering_head")

        try TestAgent.send("tb.replica_status:0|g|#cluster:\(clusterHex),replica:0", to: agent)
        try await eventually(20) { messages(recorder, alertname: .replicaStatusAbnormal).contains { $0.status == "resolved" } }
        let resolved = try #require(messages(recorder, alertname: .replicaStatusAbnormal).first { $0.status == "resolved" })
        #expect(resolved.alerts[0].status == "resolved")
        #expect(resolved.alerts[0].fingerprint == Fingerprint.of(labels))
    }

    /// The shipped alertmanager/alertmanager.yml (its receiver pointed at a test one): a critical incident,
    /// resolved, then a 15 s outage of the same group right after. The outage reaches the receiver (with the
    /// former 1m group_interval it fired and resolved between two ticks and was never notified).
    @Test func aShortOutageRightAfterAResolvedIncidentIsNotified() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try String(contentsOf: root.appendingPathComponent("alertmanager/alertmanager.yml"), encoding: .utf8)
            .replacingOccurrences(of: "http://alert-receiver:8080/alerts", with: "http://127.0.0.1:\(recorder.port)/am")
        let (alertmanager, agent, replicas) = try await alertmanagerAndAgent(recorder, config: shipped)
        defer {
            agent.stop()
            replicas.forEach { $0.close() }
            alertmanager.stop()
        }
        func status(_ value: Int) throws { try TestAgent.send("tb.replica_status:\(value)|g|#cluster:\(clusterHex),replica:0", to: agent) }
        func firings() -> [Date] {
            recorder.received.filter { request in
                (try? JSONDecoder().decode(WebhookMessage.self, from: request.body)).map {
                    $0.groupLabels["alertname"] == AlertName.replicaStatusAbnormal.rawValue && $0.alerts.contains { $0.status == "firing" }
                } ?? false
            }.map(\.at)
        }
        // The first incident: fires, is notified, resolves.
        try status(1)
        try await eventually(20) { !firings().isEmpty }
        try status(0)
        try await Task.sleep(for: .seconds(7))
        // The outage: 15 s.
        let outage = Date()
        try status(1)
        try await Task.sleep(for: .seconds(15))
        try status(0)
        try await Task.sleep(for: .seconds(2))
        let during = firings().filter { $0 >= outage }
        #expect(!during.isEmpty, "the 15 s outage was never notified")
        if let first = during.first {
            print("alertmanager: 15 s outage notified \(String(format: "%.1f", first.timeIntervalSince(outage))) s after it began")
        }
    }
}
