import Foundation
import MetricStore
import Testing
import TigerBeetle

@testable import Health

let s = Duration.seconds(1)
let clusterID = String(repeating: "0", count: 31) + "7"
let three = WatchedCluster(id: clusterID, name: "7", addresses: ["10.0.0.1:3000", "10.0.0.2:3000", "10.0.0.3:3000"])

/// A store fed lines at the given seconds.
func signals(_ lines: [(Int64, String)]) -> TigerBeetleSignals {
    var store = MetricStore()
    for (second, line) in lines {
        Array(line.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: .seconds(second)) }
    }
    return store.signals
}

func replicaLines(_ replica: Int, status: Int = 0, sync: Int = 0, peers: Int = 2, view: Int = 1) -> String {
    let tags = "#cluster:\(clusterID),replica:\(replica)"
    return """
        tb.replica_status:\(status)|g|\(tags)
        tb.replica_sync_stage:\(sync)|g|\(tags)
        tb.message_bus_connections:\(peers)|g|\(tags),peer:replica
        tb.message_bus_connections:5|g|\(tags),peer:client
        tb.replica_view:\(view)|g|\(tags)
        """
}

func allUp(at now: WallInstant) -> [ReplicaKey: ProbeResult] {
    Dictionary(
        uniqueKeysWithValues: (0..<3).map {
            (
                ReplicaKey(cluster: clusterID, replica: $0),
                ProbeResult(success: true, durationSeconds: 0.001, at: now, reachableSince: .epoch)
            )
        })
}

func evaluate(
    _ lines: [(Int64, String)], probes: [ReplicaKey: ProbeResult]? = nil, at second: Int64 = 100, watched: [WatchedCluster] = [three]
) -> HealthReport {
    HealthEvaluator.evaluate(
        watched: watched, signals: signals(lines), probes: probes ?? allUp(at: .seconds(second)),
        policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: .seconds(second))
}

struct VerdictCase: Sendable, CustomTestStringConvertible {
    var name: String
    var replica1: String
    var probeFails = false
    var heardAt: Int64 = 95
    var state: ReplicaState
    var reasons: [ReplicaState]
    var testDescription: String { name }
}

@Suite struct HealthEvaluatorTests {
    @Test(arguments: [
        VerdictCase(name: "healthy", replica1: replicaLines(1), state: .healthy, reasons: []),
        VerdictCase(name: "view change", replica1: replicaLines(1, status: 1), state: .abnormal, reasons: [.abnormal]),
        VerdictCase(name: "recovering_head", replica1: replicaLines(1, status: 3), state: .abnormal, reasons: [.abnormal]),
        VerdictCase(name: "syncing", replica1: replicaLines(1, sync: 2), state: .syncing, reasons: [.syncing]),
        VerdictCase(name: "isolated", replica1: replicaLines(1, peers: 0), state: .isolated, reasons: [.isolated]),
        VerdictCase(name: "one peer is enough in three", replica1: replicaLines(1, peers: 1), state: .healthy, reasons: []),
        VerdictCase(name: "unreachable", replica1: replicaLines(1), probeFails: true, state: .unreachable, reasons: [.unreachable]),
        VerdictCase(name: "silent", replica1: replicaLines(1), heardAt: 70, state: .silent, reasons: [.silent]),
        VerdictCase(
            name: "silent values are not judged", replica1: replicaLines(1, status: 1), heardAt: 70, state: .silent, reasons: [.silent]),
        VerdictCase(
            name: "several reasons, most severe first", replica1: replicaLines(1, status: 2, sync: 1, peers: 0), probeFails: true,
            state: .unreachable, reasons: [.unreachable, .abnormal, .syncing, .isolated]),
    ])
    func replicaVerdicts(_ c: VerdictCase) {
        var probes = allUp(at: .seconds(100))
        if c.probeFails {
            probes[ReplicaKey(cluster: clusterID, replica: 1)] = ProbeResult(
                success: false, durationSeconds: 1, at: .seconds(100), error: "timed out after 1s")
        }
        let report = evaluate([(95, replicaLines(0)), (c.heardAt, c.replica1), (95, replicaLines(2))], probes: probes)
        let replica = report.clusters[0].replicas[1]
        #expect(replica.state == c.state)
        #expect(replica.reasons.map(\.state) == c.reasons)
        #expect(replica.healthy == (c.state == .healthy))
        #expect(report.clusters[0].quorum == true)
    }

    @Test func abnormalNamesTheStatus() {
        let report = evaluate([(95, replicaLines(0)), (95, replicaLines(1, status: 1)), (95, replicaLines(2))])
        #expect(report.clusters[0].replicas[1].reasons[0].detail == "replica_status 1 (view_change)")
        #expect(report.clusters[0].replicas[1].statusName == "view_change")
    }

    @Test func unknownBeforeTheFirstData() {
        let report = evaluate([], probes: [:], at: 5)
        for replica in report.clusters[0].replicas {
            #expect(replica.state == .unknown)
            #expect(replica.reasons.first?.detail.hasPrefix("waiting for the first probe") == true)
        }
        #expect(report.clusters[0].quorum == false)
        #expect(!report.clusters[0].quorumLost)  // waiting, not lost
        // After stale-after without a word, "unknown" becomes "silent".
        #expect(evaluate([], at: 30).clusters[0].replicas[0].state == .silent)
    }

    @Test func quorumNeedsAMajority() {
        var probes = allUp(at: .seconds(100))
        probes[ReplicaKey(cluster: clusterID, replica: 0)]?.success = false
        let lines: [(Int64, String)] = [(95, replicaLines(0)), (95, replicaLines(1)), (95, replicaLines(2))]
        #expect(evaluate(lines, probes: probes).clusters[0].quorum == true)
        probes[ReplicaKey(cluster: clusterID, replica: 2)]?.success = false
        let lost = evaluate(lines, probes: probes).clusters[0]
        #expect(lost.quorum == false)
        #expect(lost.quorumLost)
        #expect(lost.summary == "NO QUORUM: 1 of 3 replicas healthy (needs 2)")
        // Before anything is known, the cluster is waiting, not lost.
        let waiting = evaluate([], at: 1).clusters[0]
        #expect(!waiting.quorumLost)
        #expect(waiting.summary == "waiting: 0 of 3 replicas healthy, 3 not yet known (needs 2)")
        #expect(HealthPolicy.majority(of: 1) == 1)
        #expect(HealthPolicy.majority(of: 5) == 3)
        #expect(HealthPolicy.majority(of: 6) == 4)
    }

    @Test func clustersHeardButNotWatchedHaveUnknownQuorum() {
        let report = evaluate([(95, replicaLines(0)), (95, replicaLines(1))], watched: [])
        let cluster = report.clusters[0]
        #expect(!cluster.watched)
        #expect(cluster.replicaCount == 2)
        #expect(cluster.quorum == nil)
        #expect(cluster.summary.hasPrefix("quorum unknown"))
        #expect(cluster.replicas.allSatisfy { $0.healthy })
    }

    @Test func viewRisesAreCounted() {
        let report = evaluate([
            (10, replicaLines(0, view: 1)), (20, replicaLines(0, view: 2)), (30, replicaLines(1, view: 1)),
            (40, replicaLines(1, view: 5)), (95, replicaLines(0, view: 5)), (95, replicaLines(1, view: 5)), (95, replicaLines(2, view: 5)),
        ])
        #expect(report.clusters[0].viewChanges == 4)
        #expect(report.clusters[0].highestView == 5)
    }
}

@Suite struct ReadinessTests {
    let healthyLines: [(Int64, String)] = [(95, replicaLines(0)), (95, replicaLines(1)), (95, replicaLines(2))]

    @Test func readyWithQuorumAndNotAllUnlessAsked() {
        var probes = allUp(at: .seconds(100))
        probes[ReplicaKey(cluster: clusterID, replica: 2)] = ProbeResult(
            success: false, durationSeconds: 0, at: .seconds(100), error: "connection refused")
        let report = evaluate(healthyLines, probes: probes)
        let quorum = Readiness.evaluate(report, require: .quorum)
        #expect(quorum.ready)
        #expect(quorum.text.contains("replica 2 (10.0.0.3:3000): unreachable: TCP connect to 10.0.0.3:3000 failed: connection refused"))
        let all = Readiness.evaluate(report, require: .all)
        #expect(!all.ready)
    }

    @Test func notReadyNamesEachFailingReplica() {
        var probes = allUp(at: .seconds(100))
        probes[ReplicaKey(cluster: clusterID, replica: 0)]?.success = false
        let lines: [(Int64, String)] = [(95, replicaLines(0)), (95, replicaLines(1, status: 1)), (95, replicaLines(2))]
        let verdict = Readiness.evaluate(evaluate(lines, probes: probes), require: .quorum)
        #expect(!verdict.ready)
        #expect(verdict.text.hasPrefix("not ready\ncluster 7 (\(clusterID)): NO QUORUM: 1 of 3 replicas healthy (needs 2)\n"))
        #expect(verdict.text.contains("replica 1 (10.0.0.2:3000): abnormal: replica_status 1 (view_change)"))
    }

    @Test func waitingBeforeTheFirstData() {
        let verdict = Readiness.evaluate(evaluate([], probes: [:], at: 3), require: .quorum)
        #expect(!verdict.ready)
        #expect(verdict.lines[0].contains("waiting for replica 0"))
        let nothing = Readiness.evaluate(evaluate([], probes: [:], at: 3, watched: []), require: .quorum)
        #expect(!nothing.ready)
        #expect(nothing.lines[0].hasPrefix("waiting for StatsD"))
    }

    @Test func unwatchedClustersAreReadyWhenEveryReplicaHeardIsHealthy() {
        #expect(Readiness.evaluate(evaluate(healthyLines, watched: []), require: .quorum).ready)
        let lines: [(Int64, String)] = [(95, replicaLines(0)), (95, replicaLines(1, status: 2))]
        #expect(!Readiness.evaluate(evaluate(lines, watched: []), require: .quorum).ready)
    }
}

@Suite struct HealthMetricsTests {
    @Test func stateIsOneHotAndQuorumOnlyForWatched() {
        let report = evaluate([(95, replicaLines(0)), (95, replicaLines(1, status: 1)), (95, replicaLines(2))])
        let families = Dictionary(uniqueKeysWithValues: HealthMetrics.families(report).map { ($0.name, $0) })
        let state = families["tigerbeetle_replica_state"]!.samples
        #expect(state.count == 3 * ReplicaState.allCases.count)
        for replica in 0..<3 {
            let ones = state.filter { $0.labels.value(of: "replica") == String(replica) && $0.value == 1 }
            #expect(ones.count == 1)
        }
        #expect(state.contains { $0.labels.value(of: "replica") == "1" && $0.labels.value(of: "state") == "abnormal" && $0.value == 1 })
        #expect(families["tigerbeetle_cluster_quorum"]!.samples.map(\.value) == [1])
        #expect(families["tigerbeetle_probe_success"]!.samples.count == 3)
        #expect(families["tigerbeetle_cluster_view_changes_total"]!.type == .counter)
        #expect(HealthMetrics.reservedNames.contains("tigerbeetle_replica_healthy"))
    }
}
