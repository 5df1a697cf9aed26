import Agent
import AgentTestSupport
import Alerting
import Foundation
import Synchronization
import TestSupport
import Testing

/// Sends each emitting replica's StatsD once a second, as TigerBeetle does every 10 s.
final class StatsDFeeder: Sendable {
    private let emitting = Mutex<Set<Int>>([])
    private let running = Atomic<Bool>(true)

    init(agent: Agent, replicas: Set<Int>) {
        emitting.withLock { $0 = replicas }
        let cluster = TestAgent.clusterHex
        Thread { [self] in
            while running.load(ordering: .relaxed) {
                for replica in emitting.withLock({ $0 }) {
                    try? TestAgent.send("tb.replica_status:0|g|#cluster:\(cluster),replica:\(replica)", to: agent)
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }.start()
    }

    func set(_ replicas: Set<Int>) { emitting.withLock { $0 = replicas } }
    func stop() { running.store(false, ordering: .relaxed) }
}

/// Which alerting paths run into the one Alertmanager.
enum AlertingPaths: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case beetlewatch, prometheus, both
    var testDescription: String { rawValue }
    var beetlewatchPushes: Bool { self != .prometheus }
    var prometheusAlerts: Bool { self != .beetlewatch }
}

/// beetlewatch watching three fake replicas, fed StatsD, with the shipped Alertmanager and Prometheus files around
/// it, the receiver a recorder. Its times are the shipped ones scaled down (the same order of events, in about half
/// the time): silent after 4 s of no StatsD (25 s shipped), QuorumLost kept firing 7 s (10 s), Alertmanager's group
/// intervals 2 s (5 s–1 m), Prometheus scraping every 2 s.
struct MonitoredCluster {
    let recorder: WebhookRecorder
    let alertmanager: AlertmanagerProcess
    let test: TestAgent
    let feeder: StatsDFeeder
    let prometheus: PrometheusServer
    let rules: URL

    static let staleAfter = 4
    /// How long QuorumLost keeps firing once quorum is back, in beetlewatch and in the Prometheus rule.
    static let quorumHold = 7

    init(_ paths: AlertingPaths) throws {
        let root = Fixtures.repositoryRoot
        recorder = WebhookRecorder()
        // The shipped file, its receiver pointed at the recorder and its group intervals shortened (the 1m one so
        // that a replica alert left firing after the inhibition lifts is notified within the test). Its group waits
        // stay: the critical route's 3 s is what lets QuorumLost inhibit the Hung alerts of replicas that stopped
        // together but were flagged up to a few seconds apart on a loaded machine (1 s let them through).
        let shipped = try String(contentsOf: root.appendingPathComponent("alertmanager/alertmanager.yml"), encoding: .utf8)
            .replacingOccurrences(of: "http://alert-receiver:8080/alerts", with: "http://127.0.0.1:\(recorder.port)/am")
            .replacingOccurrences(of: "group_interval: 1m", with: "group_interval: 2s")
            .replacingOccurrences(of: "group_interval: 5s", with: "group_interval: 2s")

        alertmanager = try AlertmanagerProcess(receiverURL: "", config: shipped)
        let url = alertmanager.url
        test = try TestAgent.start {
            if paths.beetlewatchPushes { $0.alertmanagerURLs = [url] }
            $0.statsdStaleAfter = .seconds(Self.staleAfter)
            $0.alertRules.settings[.viewChanged]?.enabled = false
            $0.alertRules.settings[.quorumLost]?.keepFiringFor = .seconds(Self.quorumHold)
        }
        feeder = StatsDFeeder(agent: test.agent, replicas: [0, 1, 2])
        // The shipped rules with QuorumLost's hold as beetlewatch's.
        rules = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-alerts-\(UUID().uuidString).yml")
        try String(contentsOf: root.appendingPathComponent("prometheus/alerts.yml"), encoding: .utf8)
            .replacingOccurrences(of: "keep_firing_for: 10s", with: "keep_firing_for: \(Self.quorumHold)s")
            .write(to: rules, atomically: true, encoding: .utf8)
        // Prometheus scraping every 2 s (its copy lags beetlewatch's verdict by up to a scrape and an evaluation)
        // and re-sending firing alerts every second: a re-send inside that lag is what a 1m resend does now and then.
        prometheus = try PrometheusServer(
            jobs: [("beetlewatch", "127.0.0.1:\(test.agent.webPort)", "")],
            ruleFile: paths.prometheusAlerts ? rules.path : nil,
            alerting: try shippedAlerting(alertmanagerPort: alertmanager.port), scrapeInterval: "2s",
            arguments: ["--rules.alert.resend-delay=1s"])
    }

    func stop() {
        feeder.stop()
        prometheus.stop()
        test.stop()
        alertmanager.stop()
        recorder.close()
        try? FileManager.default.removeItem(at: rules)
    }

    func waitUntilHealthy() async throws {
        let healthy = try await Poll.until(
            within: 30, every: .milliseconds(250),
            look: { (try? await prometheus.query("tigerbeetle_cluster_quorum == 1"))?.results == 1 }, done: { $0 })
        try #require(healthy, "timed out waiting for a healthy cluster scraped by Prometheus")
    }

    /// Stops replicas 1 and 2 (`kill -STOP`: hung, and their StatsD ends): the cluster loses quorum. Returns when.
    func stopTwoReplicas() -> Date {
        let at = Date()
        test.listeners[1].stop()
        test.listeners[2].stop()
        feeder.set([0])
        return at
    }

    /// The webhook messages received, with when.
    var received: [(message: WebhookMessage, at: Date)] {
        recorder.received.compactMap { request in
            (try? JSONDecoder().decode(WebhookMessage.self, from: request.body)).map { (message: $0, at: request.at) }
        }
    }

    func log(since start: Date) -> String {
        received.map { entry in
            let alerts = entry.message.alerts.map { "\($0.labels["alertname"] ?? "?")/\($0.labels["replica"] ?? "-")/\($0.status)" }
            return "\(String(format: "%5.1f", entry.at.timeIntervalSince(start))) s \(entry.message.status) \(alerts)"
        }.joined(separator: "\n")
    }
}

/// Three suites, each one stack at a time, side by side: at most three stacks on the two cores (five once let a Hung
/// page reach Alertmanager before QuorumLost).
@Suite(.serialized, .timeLimit(.minutes(5)), .tags(.endToEnd, .wallClock)) struct QuorumOutageTests {
    /// A three-replica cluster loses two replicas (stopped: hung, and silent) long enough for every replica alert to
    /// fire, then both come back: the probe answers at once, their StatsD 2 s later (TigerBeetle sends every 10 s).
    /// The receiver must get QuorumLost firing once and resolved once, and nothing about the replicas: their alerts
    /// are held back by the inhibition while quorum is lost, and are over when it lifts (QuorumLost keeps firing
    /// 7 s). With both paths, Prometheus's copies stand down and beetlewatch's alone reach Alertmanager.
    @Test(arguments: [AlertingPaths.beetlewatch, .both])
    func aClusterThatRecoversPagesQuorumLostOnceAndNoReplica(_ paths: AlertingPaths) async throws {
        let stack = try MonitoredCluster(paths)
        defer { stack.stop() }
        try await stack.waitUntilHealthy()

        let outage = stack.stopTwoReplicas()
        // Long enough for hung, silent and quorum lost to fire (through Prometheus: a scrape and an evaluation more).
        try await Task.sleep(for: .seconds(MonitoredCluster.staleAfter + 6))
        let recovery = Date()
        stack.test.listeners[1].resume()
        stack.test.listeners[2].resume()
        try await Task.sleep(for: .seconds(2))
        stack.feeder.set([0, 1, 2])
        // QuorumLost's hold, a scrape, an evaluation and a group interval, with room.
        try await Task.sleep(for: .seconds(MonitoredCluster.quorumHold + 8))

        let received = stack.received
        let quorum = received.filter { $0.message.groupLabels["alertname"] == AlertName.quorumLost.rawValue }
        let firing = quorum.filter { $0.message.status == "firing" }
        let resolved = quorum.filter { $0.message.status == "resolved" }
        let replicaPages = received.filter { $0.message.groupLabels["alertname"]?.hasPrefix("TigerBeetleReplica") == true }
        let log = stack.log(since: outage)
        #expect(firing.count == 1, "QuorumLost notified firing once:\n\(log)")
        #expect(resolved.count == 1, "QuorumLost notified resolved once:\n\(log)")
        #expect(replicaPages.isEmpty, "no replica alert notified:\n\(log)")
        // Which path delivered: Prometheus's copies stand down while beetlewatch pushes.
        let generator = firing.first?.message.alerts.first?.generatorURL ?? ""
        #expect(generator.contains("/graph?") == !paths.beetlewatchPushes, "generator \(generator)")
        let prometheusFired =
            (try await stack.prometheus.query("count_over_time(ALERTS{alertname=~\"TigerBeetle.+\",alertstate=\"firing\"}[5m])")).results
        #expect((prometheusFired > 0) == (paths == .prometheus), "Prometheus fired \(prometheusFired) TigerBeetle alert(s)")
        if let first = firing.first, let end = resolved.first {
            print(
                "\(paths.rawValue): QuorumLost notified \(String(format: "%.1f", first.at.timeIntervalSince(outage))) s after 2 of 3 replicas stopped, resolved \(String(format: "%.1f", end.at.timeIntervalSince(recovery))) s after they continued"
            )
        }
    }

}

/// The same outage with Prometheus's rules alone, beside the other two suites.
@Suite(.timeLimit(.minutes(5)), .tags(.endToEnd, .wallClock)) struct QuorumOutagePrometheusPathTests {
    @Test func aClusterThatRecoversPagesQuorumLostOnceAndNoReplica() async throws {
        try await QuorumOutageTests().aClusterThatRecoversPagesQuorumLostOnceAndNoReplica(.prometheus)
    }
}

@Suite(.serialized, .timeLimit(.minutes(5)), .tags(.endToEnd, .wallClock)) struct QuorumOutageLingeringReplicaTests {
    /// The inhibition hides nothing that outlasts the incident: a replica still stopped when the cluster has quorum
    /// again pages once QuorumLost has resolved; the replica that came back does not.
    @Test(arguments: [AlertingPaths.beetlewatch, .prometheus])
    func aReplicaStillDownWhenTheClusterRecoversPages(_ paths: AlertingPaths) async throws {
        let stack = try MonitoredCluster(paths)
        defer { stack.stop() }
        try await stack.waitUntilHealthy()

        let outage = stack.stopTwoReplicas()
        try await Task.sleep(for: .seconds(6))
        let recovery = Date()
        stack.test.listeners[1].resume()
        stack.feeder.set([0, 1])
        // QuorumLost's hold, then the replica's page through a scrape, an evaluation and two group intervals.
        try await Task.sleep(for: .seconds(MonitoredCluster.quorumHold + 10))

        let received = stack.received
        let log = stack.log(since: outage)
        let resolvedQuorum = try #require(
            received.first {
                $0.message.groupLabels["alertname"] == AlertName.quorumLost.rawValue && $0.message.status == "resolved"
            }, "QuorumLost resolved:\n\(log)")
        let replicaPages = received.filter { $0.message.groupLabels["alertname"]?.hasPrefix("TigerBeetleReplica") == true }
        let hung = replicaPages.filter { entry in
            entry.message.groupLabels["alertname"] == AlertName.replicaHung.rawValue
                && entry.message.alerts.contains { $0.labels["replica"] == "2" && $0.status == "firing" }
        }
        #expect(!hung.isEmpty, "replica 2 paged hung:\n\(log)")
        // Held back while QuorumLost fired, and it keeps firing `quorumHold` after quorum returns. (Alertmanager may
        // send the page before QuorumLost's resolution: each group is sent on its own 2 s tick.)
        #expect(
            hung.allSatisfy { $0.at.timeIntervalSince(recovery) >= Double(MonitoredCluster.quorumHold) },
            "held back while quorum was lost:\n\(log)")
        // Replica 1 appears only as resolved, in the message of its group.
        #expect(
            !replicaPages.contains { $0.message.alerts.contains { $0.labels["replica"] == "1" && $0.status == "firing" } },
            "replica 1 never paged:\n\(log)")
        if let first = hung.first {
            print(
                "\(paths.rawValue): replica 2, still stopped, paged \(String(format: "%.1f", first.at.timeIntervalSince(recovery))) s after the cluster regained quorum (QuorumLost resolved notified after \(String(format: "%.1f", resolvedQuorum.at.timeIntervalSince(recovery))) s)"
            )
        }
    }
}
