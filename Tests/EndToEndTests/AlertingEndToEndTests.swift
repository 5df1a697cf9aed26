import Agent
import AgentTestSupport
import Alerting
import Config
import Foundation
import Health
import Logging
import TestSupport
import Testing

let clusterHex = TestAgent.clusterHex

/// An agent watching cluster 0 at three reachable loopback ports, with alerting configured.
func alertingAgent(_ configure: (inout AgentConfig) -> Void) throws -> (Agent, [FakeReplica]) {
    let test = try TestAgent.start {
        $0.webExternalURL = "http://beetlewatch.test:9917"
        configure(&$0)
    }
    return (test.agent, test.listeners)
}

/// Waits until `condition` holds; if `seconds` pass first, the test fails here (it used to return silently and
/// leave the failure to a later, vaguer assertion).
func eventually(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else {
            Issue.record("timed out after \(seconds) s waiting for the condition", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

func messages(_ recorder: WebhookRecorder, alertname: AlertName) -> [WebhookMessage] {
    recorder.received.compactMap { try? JSONDecoder().decode(WebhookMessage.self, from: $0.body) }
        .filter { $0.groupLabels["alertname"] == alertname.rawValue }
}

@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct AlertingEndToEndTests {
    // A stopped replica's Hung page and its resolution, a full-cluster restart paging QuorumLost only, a receiver
    // that comes back getting the page once, and every resolution reaching a slow receiver once are timelines: they
    // run on the simulator (`ScriptedTimelineTests`), with every invariant checked along the way. A 4xx not retried
    // and a 5xx retried with backoff, and a stop that gives a stuck notification the shutdown timeout and no more,
    // are the delivery queue's and the alert loop's on virtual time (`DeliveryQueueTests`, `AlertLoopTests`); the
    // built binary's SIGTERM within the timeout is `LifecycleTests`'.

    /// replica_status 0 → 1 → 0 reaches a real webhook receiver as firing, then resolved, in the v4 format.
    @Test(.tags(.wallClock)) func webhookGetsFiringThenResolved() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        let (agent, listeners) = try alertingAgent { $0.webhookURLs = ["http://127.0.0.1:\(recorder.port)/hook"] }
        defer {
            agent.stop()
            listeners.forEach { $0.close() }
        }
        try await TestAgent.sendCapture(to: agent)

        let sent = Date()
        try TestAgent.send("tb.replica_status:1|g|#cluster:\(clusterHex),replica:1", to: agent)
        try await eventually { !messages(recorder, alertname: .replicaStatusAbnormal).isEmpty }
        let firing = try #require(messages(recorder, alertname: .replicaStatusAbnormal).first)
        let arrived = try #require(
            recorder.received.first {
                (try? JSONDecoder().decode(WebhookMessage.self, from: $0.body))?.groupLabels["alertname"]
                    == AlertName.replicaStatusAbnormal.rawValue
            })
        print("alert latency, datagram to webhook: \(String(format: "%.1f", arrived.at.timeIntervalSince(sent) * 1000)) ms")

        #expect(firing.version == "4")
        #expect(firing.status == "firing")
        #expect(firing.receiver == "webhook")
        #expect(firing.groupKey == "{}:{alertname=\"TigerBeetleReplicaStatusAbnormal\", cluster=\"\(clusterHex)\"}")
        #expect(firing.groupLabels == ["alertname": "TigerBeetleReplicaStatusAbnormal", "cluster": clusterHex])
        #expect(firing.truncatedAlerts == 0)
        #expect(firing.externalURL == "http://beetlewatch.test:9917")
        let labels = [
            "alertname": "TigerBeetleReplicaStatusAbnormal", "cluster": clusterHex, "replica": "1", "severity": "critical",
            "status": "view_change",
        ]
        #expect(firing.commonLabels == labels)
        #expect(firing.commonAnnotations["summary"] == "TigerBeetle replica 1 of cluster 0 is view_change")
        #expect(firing.alerts.count == 1)
        let alert = firing.alerts[0]
        #expect(alert.status == "firing")
        #expect(alert.labels == labels)
        #expect(alert.annotations["description"] == "replica_status 1 (view_change).")
        #expect(alert.annotations["runbook_url"]?.hasSuffix("docs/alerts.md#tigerbeetlereplicastatusabnormal") == true)
        #expect(alert.endsAt == "0001-01-01T00:00:00Z")
        #expect(alert.startsAt.hasSuffix("Z") && alert.startsAt.count == 24)
        #expect(alert.generatorURL == "http://beetlewatch.test:9917/api/v1/alerts")
        #expect(alert.fingerprint == Fingerprint.of(labels))
        let request = try #require(recorder.received.first)
        #expect(request.path == "/hook")
        #expect(request.headers["content-type"] == "application/json")

        // /api/v1/alerts and /metrics show it.
        let api = try JSONDecoder().decode(
            AlertsDocument.self, from: Data(try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/api/v1/alerts").body.utf8))
        #expect(api.alerts.contains { $0.alertname == "TigerBeetleReplicaStatusAbnormal" && $0.state == "firing" })
        let metrics = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/metrics").body)
        #expect(metrics["beetlewatch_alerts{alertname=\"TigerBeetleReplicaStatusAbnormal\",state=\"firing\"}"] == 1)
        #expect(
            metrics[
                "beetlewatch_alert_active{alertname=\"TigerBeetleReplicaStatusAbnormal\",alertstate=\"firing\",cluster=\"\(clusterHex)\",replica=\"1\",severity=\"critical\",status=\"view_change\"}"
            ] == 1)

        try TestAgent.send("tb.replica_status:0|g|#cluster:\(clusterHex),replica:1", to: agent)
        try await eventually { messages(recorder, alertname: .replicaStatusAbnormal).count >= 2 }
        let resolved = messages(recorder, alertname: .replicaStatusAbnormal)[1]
        #expect(resolved.status == "resolved")
        #expect(resolved.alerts.map(\.status) == ["resolved"])
        #expect(resolved.alerts[0].fingerprint == alert.fingerprint)
        #expect(resolved.alerts[0].startsAt == alert.startsAt)
        #expect(resolved.alerts[0].endsAt != "0001-01-01T00:00:00Z")
        try await Task.sleep(for: .milliseconds(300))
        #expect(messages(recorder, alertname: .replicaStatusAbnormal).count == 2)
        let after = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/metrics").body)
        #expect(after["beetlewatch_notifications_total{outcome=\"success\",receiver=\"webhook\"}"].map { $0 >= 2 } == true)
        #expect(after["beetlewatch_notifications_total{outcome=\"failed\",receiver=\"webhook\"}"] == 0)
    }
}
