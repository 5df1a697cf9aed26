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

    /// Polls `condition` on the status document every 100 ms for `seconds`; the last document.
    static func waitFor(
        _ agent: Agent, within seconds: Double, _ condition: (StatusDocument) -> Bool
    ) async throws -> StatusDocument {
        try await Poll.until(within: seconds, look: { try await status(agent) }, done: condition)
    }

    /// The cluster commits the canary's requests before any StatsD came: ready, "the cluster commits". Its primary and
    /// another replica killed: nothing commits, the canary fails, and with the replicas' refusals, NO QUORUM. (That
    /// QuorumLost then pages once, within its bound, and `/ready` opens again when the cluster commits, is a timeline:
    /// `ScriptedTimelineTests.twoReplicasStoppedCloseReadyAndPageQuorumLostOnly`, on the simulator.)
    @Test(.tags(.wallClock)) func readinessFollowsTheClusterCommitting() async throws {
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
                ($0["tigerbeetle_canary_commit_seconds_count{cluster=\"\(Self.cluster)\"}"] ?? 0) >= 1
            })
        #expect(metrics["tigerbeetle_cluster_committing{cluster=\"\(Self.cluster)\"}"] == 1)
        #expect(metrics["tigerbeetle_canary_state{cluster=\"\(Self.cluster)\",state=\"committing\"}"] == 1)

        // Every replica probed once (the prober spreads its first probes over an interval), so that the two closed
        // next are replicas that went away, not ones never reached (those are given the start's grace).
        _ = try await Self.waitFor(test.agent, within: 10) {
            $0.health.cluster(Self.cluster)?.replicas.allSatisfy { $0.probe?.success == true } == true
        }
        test.listeners[0].close()
        test.listeners[2].close()
        // Both read unreachable once their connections are reset. (A replica starved of a core under the whole suite can
        // be flagged hung just before; a hung session reconnects, and is refused, within 10 s.)
        let lost = try await Self.waitFor(test.agent, within: 15) {
            $0.health.cluster(Self.cluster).map {
                $0.quorumLost && $0.replicas[0].state == .unreachable && $0.replicas[2].state == .unreachable
            }
                == true
        }
        let after = try #require(lost.health.cluster(Self.cluster))
        #expect(after.committing == false)
        #expect(after.quorumLost && !lost.ready.ready)
        #expect(after.replicas.map(\.state) == [.unreachable, .unknown, .unreachable], "\(after.replicas.map(\.reasons))")
        #expect(after.canary?.state == .failing)
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
        // That it sends nothing more, ever, is `CanarySessionTests.anEvictedCanaryStopsForGood`, on virtual time.
    }
}
