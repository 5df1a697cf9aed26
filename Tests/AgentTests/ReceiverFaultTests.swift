import Agent
import Alerting
import Config
import Foundation
import TestSupport
import Testing

/// A webhook receiver that misbehaves must not slow ingest or scrapes, and retries stay bounded.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ReceiverFaultTests {
    /// Scrape latency and ingest while `during` runs.
    func ingestAndScrapesStayFine(_ test: TestAgent, for seconds: Double) async throws -> (slowestScrape: Double, counted: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var slowest = 0.0
        var sent = 0
        while Date() < deadline {
            try test.send("fault.ingest:1|c")
            sent += 1
            slowest = max(slowest, rawScrape(port: test.agent.webPort).seconds)
            try await Task.sleep(for: .milliseconds(200))
        }
        let samples = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(test.agent.webPort)/metrics").body)
        return (slowest, samples["fault_ingest"] == Double(sent))
    }

    @Test func aSlowReceiverDelaysNothingElseAndRetriesAreBounded() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        recorder.delay.withLock { $0 = 10 }
        var receiver = WebhookReceiverConfig(name: "slow", url: "http://127.0.0.1:\(recorder.port)/")
        receiver.timeout = 1_000_000_000
        let test = try TestAgent.start { $0.fileReceivers = [receiver] }
        defer { test.stop() }
        try await test.sendCapture()
        try test.send("tb.replica_status:1|g|#cluster:\(TestAgent.clusterHex),replica:1")
        let fine = try await ingestAndScrapesStayFine(test, for: 6)
        #expect(fine.counted, "ingest lost lines while the receiver was slow")
        #expect(fine.slowestScrape < 1, "a scrape took \(fine.slowestScrape)s")
        // Every attempt times out after 1 s; after 5 attempts the notification is counted as failed.
        let deadline = Date().addingTimeInterval(20)
        var failed = 0.0
        while Date() < deadline && failed < 1 {
            let samples = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(test.agent.webPort)/metrics").body)
            failed = samples["beetlewatch_notifications_total{outcome=\"failed\",receiver=\"slow\"}"] ?? 0
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(failed >= 1)
        print("slow receiver: slowest scrape \(String(format: "%.1f", fine.slowestScrape * 1000)) ms, ingest lossless: \(fine.counted)")
    }

    @Test func aReceiverClosingMidResponseGetsTheNotificationAfterRecovery() async throws {
        let recorder = WebhookRecorder()
        defer { recorder.close() }
        recorder.closeMidResponse.withLock { $0 = 2 }
        let test = try TestAgent.start { $0.webhookURLs = ["http://127.0.0.1:\(recorder.port)/"] }
        defer { test.stop() }
        try await test.sendCapture()
        try test.send("tb.replica_status:2|g|#cluster:\(TestAgent.clusterHex),replica:2")
        let fine = try await ingestAndScrapesStayFine(test, for: 2)
        #expect(fine.counted)
        try await eventually(15) { !messages(recorder, alertname: .replicaStatusAbnormal).isEmpty }
        let got = recorder.received.compactMap { try? JSONDecoder().decode(WebhookMessage.self, from: $0.body) }.map { "\($0.groupLabels["alertname"] ?? "?") \($0.status)" }
        #expect(messages(recorder, alertname: .replicaStatusAbnormal).count == 1, "received: \(got)")
        #expect(recorder.closeMidResponse.withLock { $0 } == 0)  // both broken answers were retried through
    }
}
