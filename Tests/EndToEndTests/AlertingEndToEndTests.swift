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
    // A stopped replica's Hung page and its resolution, a full-cluster restart paging QuorumLost only, and a receiver
    // that comes back getting the page once are timelines: they run on the simulator (`ScriptedTimelineTests`), with
    // every invariant checked along the way.

    /// Issue 13's lost resolution: a receiver taking 2 s a request, three alerts of one group resolving 0.7 s
    /// apart while the first message is in flight (then, a full-cluster restart; replica alerts are now held back
    /// under QuorumLost, so three replicas of a cluster beetlewatch only hears report recovering instead).
    /// Every resolution reaches the receiver, each once.
    @Test func everyResolutionReachesASlowReceiverOnce() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        recorder.delay.withLock { $0 = 2 }
        let (agent, replicas) = try alertingAgent {
            $0.webhookURLs = ["http://127.0.0.1:\(recorder.port)/hook"]
            $0.alertUnwatchedClusters = .true
        }
        defer {
            agent.stop()
            replicas.forEach { $0.close() }
        }
        let heard = String(repeating: "c", count: 32)
        for replica in 0..<3 { try TestAgent.send("tb.replica_status:2|g|#cluster:\(heard),replica:\(replica)", to: agent) }
        _ = try await Poll.until(
            within: 20, every: .milliseconds(50), look: { try await alertsDocument(agent.webPort) },
            done: { $0.alerts.filter { $0.alertname == AlertName.replicaStatusAbnormal.rawValue && $0.state == "firing" }.count >= 3 })
        try await eventually(10) { !messages(recorder, alertname: .replicaStatusAbnormal).isEmpty }
        for replica in 0..<3 {
            try TestAgent.send("tb.replica_status:0|g|#cluster:\(heard),replica:\(replica)", to: agent)
            try await Task.sleep(for: .milliseconds(700))
        }
        func resolutions() -> [String] {
            messages(recorder, alertname: .replicaStatusAbnormal).flatMap {
                $0.alerts.filter { $0.status == "resolved" }.map { $0.labels["replica"] ?? "" }
            }
        }
        try await eventually(40) { Set(resolutions()).count == 3 }
        #expect(
            resolutions().sorted() == ["0", "1", "2"],
            "\(messages(recorder, alertname: .replicaStatusAbnormal).map { $0.alerts.map { "\($0.status) \($0.labels["replica"] ?? "")" } })"
        )
    }

    /// replica_status 0 → 1 → 0 reaches a real webhook receiver as firing, then resolved, in the v4 format.
    @Test func webhookGetsFiringThenResolved() async throws {
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

    /// A 4xx is not retried; a 5xx is, a bounded number of times.
    @Test func clientErrorsAreNotRetriedServerErrorsAre() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        recorder.respond(with: 400)
        let (agent, listeners) = try alertingAgent { $0.webhookURLs = ["http://127.0.0.1:\(recorder.port)/"] }
        defer {
            agent.stop()
            listeners.forEach { $0.close() }
        }
        try await TestAgent.sendCapture(to: agent)
        try TestAgent.send("tb.replica_sync_stage:3|g|#cluster:\(clusterHex),replica:0", to: agent)
        try await eventually { !messages(recorder, alertname: .replicaSyncing).isEmpty }
        try await Task.sleep(for: .seconds(1.5))
        #expect(messages(recorder, alertname: .replicaSyncing).count == 1)
        recorder.respond(with: 503)
        try TestAgent.send("tb.replica_sync_stage:0|g|#cluster:\(clusterHex),replica:0", to: agent)
        try await eventually(10) { messages(recorder, alertname: .replicaSyncing).count >= 3 }
        #expect(messages(recorder, alertname: .replicaSyncing).count >= 3)  // the resolved one, retried
        let metrics = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/metrics").body)
        #expect(metrics["beetlewatch_notifications_total{outcome=\"rejected\",receiver=\"webhook\"}"].map { $0 >= 1 } == true)
    }

    /// On stop, a notification stuck retrying against a dead receiver gets the shutdown timeout, no more.
    @Test func stopWaitsAtMostTheShutdownTimeout() async throws {
        let (agent, listeners) = try alertingAgent {
            $0.webhookURLs = ["http://127.0.0.1:\(LoopbackListener.closedPort())/"]
            $0.shutdownTimeout = .seconds(1)
        }
        defer { listeners.forEach { $0.close() } }
        try await TestAgent.sendCapture(to: agent)
        try TestAgent.send("tb.replica_status:1|g|#cluster:\(clusterHex),replica:1", to: agent)
        try await Task.sleep(for: .milliseconds(300))
        let started = Date()
        agent.stop()
        let took = Date().timeIntervalSince(started)
        #expect(took < 2.5, "stop took \(took)s")
    }
}
