import MetricStore
import Testing
import TigerBeetle

@testable import Health

/// The verdicts the protocol probe adds: hung, behind, a release mismatch; results that age; silence
/// counted from reachability. Virtual time, exact seconds.
@Suite struct ProbeVerdictTests {
    func pong(_ replica: Int, at second: Int64, view: UInt32 = 1, release: String = "0.17.9", since: Int64 = 0) -> (ReplicaKey, ProbeResult)
    {
        (
            ReplicaKey(cluster: clusterID, replica: replica),
            ProbeResult(
                outcome: .answering, durationSeconds: 0.0005, at: .seconds(second), reachableSince: .seconds(since), view: view,
                release: release)
        )
    }

    func pongs(at second: Int64, views: [UInt32] = [1, 1, 1], releases: [String] = ["0.17.9", "0.17.9", "0.17.9"]) -> [ReplicaKey:
        ProbeResult]
    {
        Dictionary(uniqueKeysWithValues: (0..<3).map { pong($0, at: second, view: views[$0], release: releases[$0]) })
    }

    let policy = HealthPolicy(
        staleAfter: .seconds(25), startedAt: .epoch, probeResultTTL: .seconds(2), viewLagAfter: .seconds(5), commitLagOps: 1000,
        commitLagAfter: .seconds(30))
    let lines: [(Int64, String)] = [(95, replicaLines(0)), (95, replicaLines(1)), (95, replicaLines(2))]

    @Test func aHungReplicaIsNotHealthyAndCountsAgainstQuorum() {
        var probes = pongs(at: 100)
        probes[ReplicaKey(cluster: clusterID, replica: 1)] = ProbeResult(
            outcome: .hung, durationSeconds: 0.0005, at: .seconds(100),
            error: "no pong to the last 2 pings within 1s each", reachableSince: .epoch)
        let report = HealthEvaluator.evaluate(watched: [three], signals: signals(lines), probes: probes, policy: policy, now: .seconds(100))
        let replica = report.clusters[0].replicas[1]
        #expect(replica.state == .hung)
        #expect(
            replica.reasons.map(\.detail) == [
                "10.0.0.2:3000 accepts connections but its event loop does not answer: no pong to the last 2 pings within 1s each"
            ])
        #expect(report.clusters[0].healthyReplicas == 2)
    }

    /// A result older than interval + timeout says nothing: a stuck prober no longer keeps a success in force.
    @Test func aResultOlderThanIntervalPlusTimeoutCountsAsNone() {
        let probes = pongs(at: 100)
        let current = HealthEvaluator.evaluate(
            watched: [three], signals: signals(lines), probes: probes, policy: policy, now: .seconds(102))
        #expect(current.clusters[0].replicas[0].state == .healthy)
        let aged = HealthEvaluator.evaluate(
            watched: [three], signals: signals(lines), probes: probes, policy: policy, now: .seconds(102) + .nanoseconds(1))
        #expect(aged.clusters[0].replicas[0].state == .unknown)
        #expect(
            aged.clusters[0].replicas[0].reasons[0].detail
                == "waiting for a current probe result (the last is 2.0s old; the prober may be stuck)")
        #expect(aged.clusters[0].replicas[0].pongView == nil)
    }

    /// Started together with the cluster: not silent before the replica has been reachable for stale-after.
    @Test func silenceIsCountedFromReachability() {
        var probes: [ReplicaKey: ProbeResult] = [:]
        for r in 0..<3 {
            probes[ReplicaKey(cluster: clusterID, replica: r)] = ProbeResult(
                outcome: .answering, durationSeconds: 0, at: .seconds(40), reachableSince: .seconds(20))
        }
        for (second, expected) in [(40, ReplicaState.unknown), (45, .unknown), (45 + 1, .silent)] as [(Int64, ReplicaState)] {
            for key in probes.keys { probes[key]?.at = .seconds(second) }
            let report = HealthEvaluator.evaluate(
                watched: [three], signals: signals([]), probes: probes, policy: policy, now: .seconds(second))
            #expect(report.clusters[0].replicas.allSatisfy { $0.state == expected }, "at \(second)s")
            #expect(!report.clusters[0].quorumLost || expected == .silent)
        }
    }

    /// View lag from pongs: behind once its view stays below the cluster's for more than 5 s.
    @Test func aReplicaInAnOlderViewIsBehindAfterTheLag() {
        var progress = ProgressTracker()
        var states: [Int64: ReplicaState] = [:]
        for second: Int64 in 100...108 {
            let probes = pongs(at: second, views: [3, 2, 3])
            let report = HealthEvaluator.evaluate(
                watched: [three], signals: signals(lines.map { ($0.0 + second - 100, $0.1) }),
                probes: probes, policy: policy, progress: &progress, now: .seconds(second))
            states[second] = report.clusters[0].replicas[1].state
            if second == 106 {
                #expect(report.clusters[0].replicas[1].reasons.map(\.detail) == ["in view 2 while its cluster is in view 3, for 6.0s"])
            }
        }
        #expect(states[100] == .healthy && states[105] == .healthy)
        #expect(states[106] == .behind && states[108] == .behind)
        // Caught up: healthy at once.
        let report = HealthEvaluator.evaluate(
            watched: [three], signals: signals(lines.map { ($0.0 + 10, $0.1) }),
            probes: pongs(at: 110, views: [3, 3, 3]), policy: policy, progress: &progress, now: .seconds(110))
        #expect(report.clusters[0].replicas[1].state == .healthy)
    }

    /// commit_max trailing by more than the limit, for longer than the grace, while the others advance.
    @Test func aReplicaWhoseCommitsTrailWhileOthersAdvanceIsBehind() {
        func commitLines(_ second: Int64, _ commits: [Int]) -> [(Int64, String)] {
            (0..<3).map { r in (second, replicaLines(r) + "\ntb.replica_commit_max:\(commits[r])|g|#cluster:\(clusterID),replica:\(r)") }
        }
        var progress = ProgressTracker()
        var behindAt: [Int64] = []
        var history: [(Int64, String)] = []
        for second: Int64 in stride(from: 100, through: 140, by: 5) {
            let leader = 10_000 + Int(second - 100) * 100
            history += commitLines(second, [leader, 5_000, leader])
            let report = HealthEvaluator.evaluate(
                watched: [three], signals: signals(history), probes: pongs(at: second),
                policy: policy, progress: &progress, now: .seconds(second))
            if report.clusters[0].replicas[1].state == .behind { behindAt.append(second) }
        }
        #expect(behindAt == [135, 140])
        // A cluster that does not advance: a replica trailing an idle cluster is not behind.
        var idle = ProgressTracker()
        var idleHistory: [(Int64, String)] = []
        for second: Int64 in stride(from: 100, through: 140, by: 5) {
            idleHistory += commitLines(second, [10_000, 5_000, 10_000])
            let report = HealthEvaluator.evaluate(
                watched: [three], signals: signals(idleHistory), probes: pongs(at: second),
                policy: policy, progress: &idle, now: .seconds(second))
            #expect(report.clusters[0].replicas[1].state == .healthy, "at \(second)s")
        }
    }

    @Test func differentReleasesAreNotedNotUnhealthy() {
        let report = HealthEvaluator.evaluate(
            watched: [three], signals: signals(lines),
            probes: pongs(at: 100, releases: ["0.17.9", "0.17.8", "0.17.9"]), policy: policy, now: .seconds(100))
        let cluster = report.clusters[0]
        #expect(cluster.releases == ["0.17.8", "0.17.9"])
        #expect(cluster.notes == ["replicas report different releases (an upgrade under way?): 0.17.8 on 1; 0.17.9 on 0, 2"])
        #expect(cluster.replicas.allSatisfy { $0.healthy })
    }

    /// A replica that does not accept connections runs nothing: the release it last answered with is not held against
    /// the others (it may be restarting into the new one; the simulator's seed 9101311).
    @Test func anUnreachableReplicasLastReleaseIsNoMismatch() {
        var probes = pongs(at: 100, releases: ["0.17.9", "0.18.0", "0.18.0"])
        probes[ReplicaKey(cluster: clusterID, replica: 0)] = ProbeResult(
            outcome: .unreachable, durationSeconds: 0, at: .seconds(100), error: "Connection refused", release: "0.17.9")
        let report = HealthEvaluator.evaluate(watched: [three], signals: signals(lines), probes: probes, policy: policy, now: .seconds(100))
        let cluster = report.clusters[0]
        #expect(cluster.replicas[0].state == .unreachable)
        #expect(cluster.replicas[0].release == "0.17.9", "still shown")
        #expect(cluster.releases == ["0.18.0"])
        #expect(cluster.notes.allSatisfy { !$0.hasPrefix("replicas report different releases") }, "\(cluster.notes)")
    }

    @Test func aStatsDReleaseIsReadWhenThereIsNoPong() {
        let withRelease = lines.map {
            ($0.0, $0.1 + "\ntb.release:4360|g|#cluster:\(clusterID),replica:\($0.1.contains("replica:1") ? 1 : 0)")
        }
        let report = evaluate(withRelease)
        #expect(report.clusters[0].replicas[0].release == "0.17.8")
    }

    /// The primary evicted the ping: backups that never answered are waiting, not hung.
    @Test func backupsSilentAfterAnEvictionAreNotHung() {
        var probes = pongs(at: 100)
        probes[ReplicaKey(cluster: clusterID, replica: 0)] = ProbeResult(
            outcome: .evicted, durationSeconds: 0, at: .seconds(100),
            error: "replica 0 evicted a ping claiming release 0.17.9: that release is too low for it", reachableSince: .epoch)
        for r in 1..<3 {
            probes[ReplicaKey(cluster: clusterID, replica: r)] = ProbeResult(
                outcome: .hung, durationSeconds: 0, at: .seconds(100), error: "no pong", reachableSince: .epoch)
        }
        let cluster = HealthEvaluator.evaluate(
            watched: [three], signals: signals(lines), probes: probes, policy: policy, now: .seconds(100)
        )
        .clusters[0]
        #expect(cluster.replicas[0].state == .healthy)
        #expect(cluster.replicas[1].state == .unknown && cluster.replicas[2].state == .unknown)
        #expect(
            cluster.notes == [
                "replica 0 evicted beetlewatch's ping: replica 0 evicted a ping claiming release 0.17.9: that release is too low for it"
            ])
        #expect(!cluster.quorumLost)
    }
}
