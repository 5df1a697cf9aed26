import Testing
import TigerBeetle

@testable import Health

/// The cluster's verdict with its canary: the best evidence of quorum is the cluster committing a request.
@Suite struct CanaryVerdictTests {
    static let now: WallInstant = .seconds(100)
    /// Every replica reporting, all three up, then replicas 1 and 2 as `probe` says.
    static func lines() -> [(Int64, String)] { (0..<3).map { (95, replicaLines($0)) } }

    static func probes(_ failing: [Int], refused: Bool, hung: Bool = false) -> [ReplicaKey: ProbeResult] {
        var probes = allUp(at: now)
        for r in failing {
            let result = ProbeResult(
                outcome: hung ? .hung : .unreachable, durationSeconds: 1, at: now,
                error: hung ? "no pong to the last 2 pings" : refused ? "Connection refused" : "connect timed out after 1s",
                reachableSince: nil,
                everReachable: true, failure: hung ? nil : refused ? .refused : .connect)
            probes[ReplicaKey(cluster: clusterID, replica: r)] = result
        }
        return probes
    }

    static func canary(_ state: CanaryResult.State, lastCommit: WallInstant? = now - s / 2, failingFor: Duration = .seconds(2))
        -> CanaryResult
    {
        var result = CanaryResult(state: state, at: now, error: state == .failing ? "no reply to lookup_accounts within 1s" : nil)
        result.lastCommitAt = lastCommit
        result.lastLatencySeconds = 0.0012
        result.commits = 42
        if state == .failing { result.failingSince = now - failingFor }
        return result
    }

    static func verdict(_ probes: [ReplicaKey: ProbeResult], canary: CanaryResult?) -> ClusterVerdict {
        HealthEvaluator.evaluate(
            watched: [three], signals: signals(lines()), probes: probes, canaries: canary.map { [clusterID: $0] } ?? [:],
            policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: now
        ).clusters[0]
    }

    /// Cut off from two replicas (connects time out, nothing refuses) while the cluster commits: quorum, no QuorumLost,
    /// and the two are unobserved, naming beetlewatch's network. (Before the canary: NO QUORUM and a page.)
    @Test func unreachableWithoutARefusalWhileTheClusterCommitsIsUnobserved() {
        let cluster = Self.verdict(Self.probes([1, 2], refused: false), canary: Self.canary(.committing))
        #expect(cluster.committing == true)
        #expect(cluster.quorum == true)
        #expect(!cluster.quorumLost)
        #expect(cluster.replicas.map(\.state) == [.healthy, .unobserved, .unobserved])
        #expect(cluster.replicas[1].reasons.first?.detail.contains("beetlewatch's own network is the suspect") == true)
        #expect(cluster.summary.hasPrefix("quorum: the cluster commits (beetlewatch's request took 1.2 ms)"))
        let without = Self.verdict(Self.probes([1, 2], refused: false), canary: nil)
        #expect(without.quorumLost && without.replicas.map(\.state) == [.healthy, .unreachable, .unreachable])
    }

    /// A refusal is an answer: a replica whose port refuses is down even while the cluster commits (the two others carry
    /// its quorum). A hung one (its kernel acknowledges, its loop does not answer) stays hung.
    @Test func aRefusalOrAHangIsNotUnobserved() {
        let refused = Self.verdict(Self.probes([2], refused: true), canary: Self.canary(.committing))
        #expect(refused.replicas[2].state == .unreachable)
        #expect(refused.quorum == true)
        let hung = Self.verdict(Self.probes([2], refused: false, hung: true), canary: Self.canary(.committing))
        #expect(hung.replicas[2].state == .hung)
    }

    /// The canary fails and the replicas' evidence says quorum is lost: QuorumLost. The canary fails, for longer than a
    /// view change takes, while a majority answers beetlewatch's probes: beetlewatch's network is not the suspect, the
    /// cluster does not commit (its replicas cannot reach each other, or its primary is stuck): QuorumLost too (the
    /// simulator, seed 19: two replicas cut off from their peers, all three answering, the cluster down 24 s and nothing
    /// paged; seed 100405: without the allowance, a 1.5 s view change paged). The canary fails while the
    /// replicas are known from StatsD alone: not ready, no QuorumLost, a note.
    @Test func aFailingCanaryLosesQuorumWithTheReplicasEvidenceOrWhileTheyAnswer() {
        let lost = Self.verdict(Self.probes([1, 2], refused: false), canary: Self.canary(.failing))
        #expect(lost.committing == false)
        #expect(lost.quorum == false && lost.quorumLost)
        #expect(lost.replicas.map(\.state) == [.healthy, .unreachable, .unreachable])
        // A view change (a new primary ~1.5 s after the old one stopped) is not a lost quorum: 2.5 s of failing first.
        let failover = Self.verdict(Self.probes([], refused: false), canary: Self.canary(.failing, failingFor: .seconds(2)))
        #expect(failover.quorum == false && !failover.quorumLost)
        let answering = Self.verdict(Self.probes([], refused: false), canary: Self.canary(.failing, failingFor: .seconds(3)))
        #expect(answering.quorum == false && answering.quorumLost)
        // A cold start: the canary has never committed (the cluster started with beetlewatch and recovers): not lost.
        var starting = Self.canary(.failing, failingFor: .seconds(10))
        starting.commits = 0
        let coldStart = Self.verdict(Self.probes([], refused: false), canary: starting)
        #expect(coldStart.quorum == false && !coldStart.quorumLost)
        #expect(answering.summary.hasPrefix("NO QUORUM: beetlewatch's request goes unanswered while 3 of 3 replicas answer its probes"))
        let unprobed = HealthEvaluator.evaluate(
            watched: [three], signals: signals(Self.lines()), probes: [:], canaries: [clusterID: Self.canary(.failing)],
            policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: Self.now
        ).clusters[0]
        #expect(unprobed.quorum == false && !unprobed.quorumLost)
        #expect(unprobed.summary.hasPrefix("NOT COMMITTING"))
        #expect(unprobed.notes.contains { $0.contains("does not commit beetlewatch's request") })
    }

    /// A backup a request sent through it alone did not get to the primary, answering pings since: isolated, while the
    /// cluster commits. One whose last pong predates that (stopped, or out of beetlewatch's reach) is not judged so.
    @Test func aBackupThatDoesNotForwardIsIsolated() {
        var canary = Self.canary(.committing)
        canary.unforwarded = [CanaryResult.Unforwarded(replica: 2, since: Self.now - .seconds(2))]
        var answering = Self.probes([], refused: false)
        answering[ReplicaKey(cluster: clusterID, replica: 2)]?.outcome = .answering
        answering[ReplicaKey(cluster: clusterID, replica: 2)]?.answeredAt = Self.now - s
        answering[ReplicaKey(cluster: clusterID, replica: 2)]?.reachableSince = Self.now - .seconds(60)
        let isolated = Self.verdict(answering, canary: canary)
        #expect(isolated.replicas.map(\.state) == [.healthy, .healthy, .isolated])
        #expect(isolated.replicas[2].reasons.first?.detail.hasSuffix("it cannot reach its primary") == true)
        #expect(isolated.quorum == true && !isolated.quorumLost)
        // Stopped 3 s ago: its result confirmed a moment ago (a ping out, not yet missed), its last pong before the request.
        var stale = answering
        stale[ReplicaKey(cluster: clusterID, replica: 2)]?.answeredAt = Self.now - .seconds(3)
        let stopped = Self.verdict(stale, canary: canary)
        #expect(stopped.replicas[2].reasons.allSatisfy { $0.state != .isolated })
        // Stopped, and answering again for a second: the requests sent through it while it was stopped say nothing.
        var continued = answering
        continued[ReplicaKey(cluster: clusterID, replica: 2)]?.reachableSince = Self.now - s
        #expect(Self.verdict(continued, canary: canary).replicas[2].reasons.allSatisfy { $0.state != .isolated })
    }

    /// A canary result that is stale (a commit older than the interval and the timeout), starting or evicted says
    /// nothing: the replicas' evidence decides, as without a canary.
    @Test(arguments: [CanaryResult.State.starting, .evicted, .committing])
    func anUnknownCanaryLeavesTheReplicasToDecide(_ state: CanaryResult.State) {
        let canary = Self.canary(state, lastCommit: state == .committing ? Self.now - .seconds(10) : nil)
        let cluster = Self.verdict(Self.probes([1, 2], refused: false), canary: canary)
        #expect(cluster.committing == nil)
        #expect(cluster.quorumLost)
        #expect(cluster.replicas.map(\.state) == [.healthy, .unreachable, .unreachable])
    }
}

/// One voice does not outvote the cluster: its view and commit are what a majority corroborates.
@Suite struct CorroboratedProgressTests {
    /// A listener on replica 2's port answering pongs with view 0xFFFFFFFF (measured: both honest replicas `behind`, NO
    /// QUORUM and a page within 8 s): the honest ones stay healthy, whatever time passes.
    @Test func anAbsurdViewFromOneReplicaMakesNobodyBehind() {
        var progress = ProgressTracker()
        var probes = allUp(at: .epoch)
        for (r, view) in [(0, UInt32(4)), (1, 4), (2, UInt32.max)] {
            probes[ReplicaKey(cluster: clusterID, replica: r)] = ProbeResult(
                outcome: .answering, durationSeconds: 0.001, at: .epoch, reachableSince: .epoch, view: view, release: "0.17.9")
        }
        var report = HealthReport(generatedAt: 0, clusters: [])
        for second: Int64 in stride(from: 0, through: 60, by: 5) {
            for key in probes.keys { probes[key]?.at = .seconds(second) }
            report = HealthEvaluator.evaluate(
                watched: [three], signals: signals((0..<3).map { (second, replicaLines($0, view: 4)) }), probes: probes,
                policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), progress: &progress, now: .seconds(second))
        }
        let cluster = report.clusters[0]
        #expect(cluster.replicas.map(\.state) == [.healthy, .healthy, .healthy], "\(cluster.replicas.map(\.reasons))")
        #expect(cluster.quorum == true)
    }

    @Test func theMajorityThHighest() {
        #expect(ProgressTracker.corroborated([1, 9, 1], by: 2) == 1)
        #expect(ProgressTracker.corroborated([4, 4, 3], by: 2) == 4)
        #expect(ProgressTracker.corroborated([5], by: 2) == 5)
        #expect(ProgressTracker.corroborated([], by: 2) == nil)
    }
}
