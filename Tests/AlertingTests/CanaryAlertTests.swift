import Health
import MetricStore
import Testing
import TigerBeetle

@testable import Alerting

/// The alerts the canary's verdicts raise, and the evidence QuorumLost names.
@Suite struct CanaryAlertTests {
    static let second = Duration.seconds(1)
    static let cluster = String(repeating: "0", count: 31) + "9"
    static let watched = WatchedCluster(id: cluster, name: "9", addresses: ["10.0.0.1:3001", "10.0.0.2:3001", "10.0.0.3:3001"])

    static func report(at now: WallInstant, cut: [Int], canary: CanaryResult.State?, hung: [Int] = []) -> HealthReport {
        var store = MetricStore()
        for r in 0..<3 {
            let tags = "#cluster:\(cluster),replica:\(r)"
            let lines = "tb.replica_status:0|g|\(tags)\ntb.message_bus_connections:2|g|\(tags),peer:replica"
            Array(lines.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now - second) }
        }
        var probes: [ReplicaKey: ProbeResult] = [:]
        for r in 0..<3 {
            probes[ReplicaKey(cluster: cluster, replica: r)] =
                hung.contains(r)
                ? ProbeResult(outcome: .hung, durationSeconds: 1, at: now, error: "no pong to the last 2 pings", everReachable: true)
                : cut.contains(r)
                    ? ProbeResult(
                        outcome: .unreachable, durationSeconds: 1, at: now, error: "connect timed out after 1s", everReachable: true,
                        failure: .connect)
                    : ProbeResult(outcome: .answering, durationSeconds: 0.001, at: now, reachableSince: .epoch)
        }
        var canaries: [String: CanaryResult] = [:]
        if let canary {
            var result = CanaryResult(state: canary, at: now, error: canary == .failing ? "no reply to lookup_accounts within 1s" : nil)
            result.lastCommitAt = now - second / 2
            canaries[cluster] = result
        }
        return HealthEvaluator.evaluate(
            watched: [watched], signals: store.signals, probes: probes, canaries: canaries,
            policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: now)
    }

    /// Cut off from two replicas while the cluster commits: one warning for each, TigerBeetleReplicaUnobserved with its
    /// address, after its 10 s; no QuorumLost, no Unreachable.
    @Test func unobservedReplicasRaiseAWarningNotAPage() {
        var engine = AlertEngine()
        engine.minimumFor = Self.second
        var fired: [Alert] = []
        for t in 0...12 {
            let now = WallInstant.seconds(1_000 + t)
            fired += engine.evaluate(Self.report(at: now, cut: [1, 2], canary: .committing), now: now)
        }
        #expect(fired.map(\.name) == [.replicaUnobserved, .replicaUnobserved])
        #expect(fired.allSatisfy { $0.labels["severity"] == "warning" && $0.firedAt == .seconds(1_010) })
        #expect(Set(fired.compactMap { $0.labels["address"] }) == ["10.0.0.2:3001", "10.0.0.3:3001"])
        #expect(fired[0].annotations["description"]?.contains("beetlewatch's own network is the suspect") == true)
    }

    /// Two replicas hung while the canary still commits: the replicas show quorum lost, the canary has not decided. Their
    /// alerts wait for it, its interval and timeout at most: it fails (QuorumLost first, they are held back under it), or
    /// it goes on committing (they page on their own once the wait is over).
    @Test func replicaAlertsWaitForTheCanarysVerdict() throws {
        let t0 = WallInstant.seconds(1_000)
        func engine() -> AlertEngine {
            var engine = AlertEngine()
            engine.minimumFor = Self.second / 5
            engine.quorumDecisionWait = .seconds(2)
            return engine
        }
        var committing = engine()
        for tenth: Int64 in 0..<20 {
            let now = t0 + .milliseconds(tenth * 100)
            #expect(committing.evaluate(Self.report(at: now, cut: [], canary: .committing, hung: [1, 2]), now: now).isEmpty, "at \(tenth)")
        }
        #expect(committing.nextTransitionAt == t0 + .seconds(2))
        let later = t0 + .seconds(2)
        let hung = committing.evaluate(Self.report(at: later, cut: [], canary: .committing, hung: [1, 2]), now: later)
        #expect(hung.map(\.name) == [.replicaHung, .replicaHung])

        var failing = engine()
        _ = failing.evaluate(Self.report(at: t0, cut: [], canary: .committing, hung: [1, 2]), now: t0)
        var fired: [AlertName] = []
        for tenth: Int64 in 5...30 {
            let now = t0 + .milliseconds(tenth * 100)
            fired += failing.evaluate(Self.report(at: now, cut: [], canary: .failing, hung: [1, 2]), now: now).map(\.name)
        }
        #expect(fired.first == .quorumLost, "\(fired)")
    }

    /// The canary fails while the replicas do not show quorum lost (one hung, two answering): a failover, or a cluster
    /// whose replicas cannot reach each other, which the health model calls a lost quorum once it outlasts a view change.
    /// Replica alerts wait for that decision (the decision wait and a second), so QuorumLost comes first if it comes (the
    /// simulator, seed 178: the lone primary's Isolated paged before QuorumLost); if it does not, they page then.
    @Test func replicaAlertsWaitWhileTheCanaryFailsUndecided() {
        let t0 = WallInstant.seconds(1_000)
        var engine = AlertEngine()
        engine.minimumFor = Self.second / 5
        engine.quorumDecisionWait = .seconds(2)
        var fired: [AlertName] = []
        for tenth: Int64 in 0..<30 {
            let now = t0 + .milliseconds(tenth * 100)
            fired += engine.evaluate(Self.report(at: now, cut: [], canary: .failing, hung: [1]), now: now).map(\.name)
        }
        #expect(fired.isEmpty, "\(fired)")
        #expect(engine.nextTransitionAt == t0 + .seconds(3))
        let later = t0 + .seconds(3)
        #expect(engine.evaluate(Self.report(at: later, cut: [], canary: .failing, hung: [1]), now: later).map(\.name) == [.replicaHung])
    }

    /// QuorumLost fires as soon as the canary has failed and the replicas agree (the canary's timeout is a hold of its
    /// own); without a canary it holds its probe interval, as before.
    @Test func aFailedCanaryPagesQuorumLostWithoutTheProbeHold() {
        let now = WallInstant.seconds(1_000)
        var withCanary = AlertEngine()
        withCanary.minimumFor = Self.second
        #expect(withCanary.evaluate(Self.report(at: now, cut: [1, 2], canary: .failing), now: now).map(\.name) == [.quorumLost])
        var without = AlertEngine()
        without.minimumFor = Self.second
        #expect(without.evaluate(Self.report(at: now, cut: [1, 2], canary: nil), now: now).isEmpty)
        #expect(without.nextTransitionAt == now + Self.second)
    }

    /// QuorumLost says what backs it: the canary's failure; without a canary, which replicas went unanswered without a
    /// refusal, and that beetlewatch's own network is as likely a cause.
    @Test func quorumLostNamesItsEvidence() throws {
        let now = WallInstant.seconds(1_000)
        var engine = AlertEngine()
        let withCanary = engine.evaluate(Self.report(at: now, cut: [1, 2], canary: .failing), now: now)
        let canaryPage = try #require(withCanary.first { $0.name == .quorumLost })
        #expect(
            canaryPage.annotations["description"]?.hasSuffix(
                "The cluster does not commit beetlewatch's request: no reply to lookup_accounts within 1s.") == true)
        var blind = AlertEngine()
        let without = blind.evaluate(Self.report(at: now, cut: [1, 2], canary: nil), now: now)
        let page = try #require(without.first { $0.name == .quorumLost })
        #expect(
            page.annotations["description"]?.contains(
                "Replicas 1, 2 went unanswered without a refusal: beetlewatch's own network is as likely a cause as the replicas (replica 0 reports 2 peer connections); the canary (--canary.enabled) tells the two apart."
            ) == true, "\(page.annotations["description"] ?? "")")
    }
}
