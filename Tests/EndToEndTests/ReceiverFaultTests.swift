import Agent
import AgentTestSupport
import Alerting
import Config
import Foundation
import TestSupport
import Testing

/// How a webhook receiver misbehaves, and how it is put right.
enum ReceiverFault: String, CaseIterable, Sendable {
    case down, slow, serverError, closesMidResponse

    func inflict(on recorder: WebhookRecorder) {
        switch self {
        case .down: break  // the recorder is created not listening
        case .slow: recorder.delay.withLock { $0 = 10 }
        case .serverError: recorder.respond(with: 500)
        case .closesMidResponse: recorder.closeMidResponse.withLock { $0 = 1_000 }
        }
    }

    func repair(_ recorder: WebhookRecorder) {
        switch self {
        case .down: recorder.listen()
        case .slow: recorder.delay.withLock { $0 = 0 }
        case .serverError: recorder.respond(with: 200)
        case .closesMidResponse: recorder.closeMidResponse.withLock { $0 = 0 }
        }
    }
}

/// A webhook receiver that misbehaves must not slow ingest or scrapes, and retries stay bounded.
@Suite(.serialized, .timeLimit(.minutes(3)), .tags(.endToEnd)) struct ReceiverFaultTests {
    /// Sends a line and scrapes every 100 ms for `seconds` (on a thread of its own, so the count does not depend on
    /// the test pool): the slowest scrape, the scrape count, and whether every line was counted.
    func ingestAndScrapesStayFine(_ test: TestAgent, for seconds: Double) async throws -> (
        slowestScrape: Double, scrapes: Int, counted: Bool
    ) {
        let agent = test.agent
        let (slowest, sent) = try await onOwnThread { () throws -> (Double, Int) in
            let deadline = Date().addingTimeInterval(seconds)
            var slowest = 0.0
            var sent = 0
            while Date() < deadline {
                try TestAgent.send("fault.ingest:1|c", to: agent)
                sent += 1
                slowest = max(slowest, rawScrape(port: agent.webPort).seconds)
                usleep(100_000)
            }
            return (slowest, sent)
        }
        // About 10 a second on a quiet machine, 4–5 under the whole suite; one in 4 s (as the pool-bound loop once
        // managed) would make "the slowest scrape" mean little.
        #expect(sent >= Int(seconds * 2.5), "only \(sent) scrapes in \(seconds) s")
        let samples = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/metrics").body)
        return (slowest, sent, samples["fault_ingest"] == Double(sent))
    }

    /// Each fault in turn: while it lasts, ingest loses nothing and scrapes stay fast; the queue stays
    /// bounded; once the receiver is put right, the notification arrives, once. (That retries are bounded and a refusal
    /// final is the delivery queue's, on virtual time: `DeliveryQueueTests`. What a down, failing, slow or hanging
    /// receiver does to the pages and their resolutions over whole incidents is the simulator's: every seed.)
    @Test(.tags(.wallClock), arguments: ReceiverFault.allCases)
    func aFaultyReceiverDelaysNothingAndIsServedAfterRecovery(_ fault: ReceiverFault) async throws {
        let recorder = WebhookRecorder(listening: fault != .down)
        defer { recorder.close() }
        fault.inflict(on: recorder)
        var receiver = WebhookReceiverConfig(name: "faulty", url: "http://127.0.0.1:\(recorder.port)/")
        receiver.timeout = .seconds(2)
        let test = try TestAgent.start { $0.fileReceivers = [receiver] }
        defer { test.stop() }
        try await test.sendCapture()
        try test.send("tb.replica_status:1|g|#cluster:\(TestAgent.clusterHex),replica:1")
        let during = try await ingestAndScrapesStayFine(test, for: 4)
        #expect(during.counted, "\(fault): ingest lost lines")
        #expect(during.slowestScrape < 0.5, "\(fault): a scrape took \(during.slowestScrape) s")
        let queued = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(test.agent.webPort)/metrics").body)
        let queueLength = queued["beetlewatch_notification_queue_length{receiver=\"faulty\"}"] ?? -1
        #expect(queueLength >= 0 && queueLength <= 64)

        let repaired = Date()
        fault.repair(recorder)
        // Accepted (2xx) requests only: while the fault lasts, the receiver may have seen (and refused) attempts.
        func accepted() -> Int {
            recorder.received.filter { (200..<300).contains($0.status) }
                .compactMap { try? JSONDecoder().decode(WebhookMessage.self, from: $0.body) }
                .filter { $0.groupLabels["alertname"] == AlertName.replicaStatusAbnormal.rawValue }.count
        }
        // At once if the channel's own retries (5 attempts over 4–8 s) outlast the fault; else the planner sends the
        // group again 30 s after the failed delivery (`NotificationPlanner.retryDelay`).
        try await eventually(45) { accepted() > 0 }
        let recovery = Date().timeIntervalSince(repaired)
        try await Task.sleep(for: .milliseconds(500))
        #expect(accepted() == 1, "\(fault): delivered once after recovery")
        let after = PrometheusText.samples(try await HTTPTestClient.request("http://127.0.0.1:\(test.agent.webPort)/metrics").body)
        print(
            "receiver fault \(fault.rawValue): \(during.scrapes) scrapes over 4 s, slowest \(String(format: "%.1f", during.slowestScrape * 1000)) ms; \(during.scrapes) lines, all counted: \(during.counted); queue \(Int(queueLength)); delivered \(String(format: "%.1f", recovery)) s after repair; outcomes \(after.filter { $0.key.hasPrefix("beetlewatch_notifications_total") && $0.key.contains("faulty") && $0.value > 0 }.map { "\($0.key.split(separator: "\"")[1])=\(Int($0.value))" }.sorted())"
        )
    }
}
