import Agent
import AgentTestSupport
import Config
import Foundation
import Health
import TestSupport
import Testing

/// The canary against fake replicas that commit its requests only while a majority of their cluster is live, over real
/// sockets: readiness follows the cluster committing, and a cut path is told from a replica down.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct CanaryEndToEndTests {
    static let cluster = TestAgent.clusterHex

    static func start(_ configure: @escaping (inout AgentConfig) -> Void = { _ in }) throws -> TestAgent {
        try TestAgent.start {
            $0.canaryInterval = .milliseconds(200)
            $0.canaryTimeout = .milliseconds(500)
            $0.probeTimeout = .milliseconds(500)
            $0.statsdStaleAfter = .seconds(300)
            configure(&$0)
        }
    }

    static func status(_ agent: Agent) async throws -> StatusDocument {
        let body = try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/api/v1/status").body
        return try JSONDecoder().decode(StatusDocument.self, from: Data(body.utf8))
    }

    static func alerts(_ agent: Agent) async throws -> [AlertsDocumentEntry] {
        let body = try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/api/v1/alerts").body
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return ((object?["alerts"] as? [[String: Any]]) ?? []).map {
            AlertsDocumentEntry(
                name: $0["alertname"] as? String ?? "", state: $0["state"] as? String ?? "",
                replica: ($0["labels"] as? [String: String])?["replica"])
        }
    }

    struct AlertsDocumentEntry: Equatable, CustomStringConvertible {
        var name: String
        var state: String
        var replica: String?
        var description: String { "\(name) \(state) \(replica ?? "-")" }
    }

    /// Polls `condition` on the status document every 100 ms for `seconds`; the last document.
    static func waitFor(
        _ agent: Agent, within seconds: Double, _ condition: (StatusDocument) -> Bool
    ) async throws -> StatusDocument {
        try await Poll.until(within: seconds, look: { try await status(agent) }, done: condition)
    }

    /// The cluster commits the canary's requests before any StatsD came: ready, "the cluster commits". Its primary and
    /// another replica killed: nothing commits, the canary fails, and with the replicas' refusals, NO QUORUM and the page.
    @Test func readinessFollowsTheClusterCommitting() async throws {
        let test = try Self.start()
        defer { test.stop() }
        let committing = try await Self.waitFor(test.agent, within: 10) { $0.ready.ready }
        let cluster = try #require(committing.health.cluster(Self.cluster))
        #expect(committing.ready.ready, "\(committing.ready.lines)")
        #expect(cluster.committing == true)
        #expect(cluster.summary.hasPrefix("quorum: the cluster commits"), "\(cluster.summary)")
        #expect((cluster.canary?.commits ?? 0) >= 1)
        #expect(test.listeners.map(\.requests).reduce(0, +) >= 1)
        let metrics = PrometheusText.samples(
            try await HTTPTestClient.scrape(port: test.agent.webPort) {
                ($0["tigerbeetle_canary_commit_seconds_count{cluster=\"\(Self.cluster)\"}"] ?? 0) >= 2
            })
        #expect(metrics["tigerbeetle_cluster_committing{cluster=\"\(Self.cluster)\"}"] == 1)
        #expect(metrics["tigerbeetle_canary_state{cluster=\"\(Self.cluster)\",state=\"committing\"}"] == 1)

        test.listeners[0].close()
        test.listeners[2].close()
        let lost = try await Self.waitFor(test.agent, within: 10) { $0.health.cluster(Self.cluster)?.quorumLost == true }
        let after = try #require(lost.health.cluster(Self.cluster))
        #expect(after.committing == false)
        #expect(after.quorumLost && !lost.ready.ready)
        #expect(after.replicas.map(\.state) == [.unreachable, .unknown, .unreachable], "\(after.replicas.map(\.reasons))")
        #expect(after.canary?.state == .failing)
        var names: [String] = []
        for _ in 0..<50 where !names.contains("TigerBeetleQuorumLost") {
            names = try await Self.alerts(test.agent).filter { $0.state == "firing" }.map(\.name)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(names.contains("TigerBeetleQuorumLost"), "\(names)")
    }

    /// Newer clients took every session (the cluster's 64): the canary is evicted, says so, and stops for good; the
    /// replicas' evidence decides readiness again.
    @Test func anEvictedCanaryStopsAndSaysSo() async throws {
        let test = try Self.start()
        defer { test.stop() }
        try await test.sendCapture()
        _ = try await Self.waitFor(test.agent, within: 10) { $0.health.cluster(Self.cluster)?.committing == true }
        test.listeners[0].forgetSessions()
        let evicted = try await Self.waitFor(test.agent, within: 10) { $0.health.cluster(Self.cluster)?.canary?.state == .evicted }
        let cluster = try #require(evicted.health.cluster(Self.cluster))
        #expect(cluster.canary?.state == .evicted)
        #expect(cluster.notes.contains { $0.contains("evicted") }, "\(cluster.notes)")
        #expect(cluster.committing == nil)
        #expect(evicted.ready.ready, "the replicas' evidence: all healthy")
        let requests = test.listeners.map(\.requests).reduce(0, +)
        try await Task.sleep(for: .seconds(1))
        #expect(test.listeners.map(\.requests).reduce(0, +) == requests, "no request after the eviction")
    }
}
