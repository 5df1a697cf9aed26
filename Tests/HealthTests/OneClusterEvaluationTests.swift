import Exposition
import MetricStore
import Testing
import TigerBeetle

@testable import Health

/// A cluster page judges its cluster alone: what it shows is what the whole evaluation shows of that cluster.
@Suite struct OneClusterEvaluationTests {
    static let other = String(repeating: "0", count: 31) + "9"
    /// Heard over StatsD, not configured.
    static let heardOnly = String(repeating: "0", count: 30) + "ab"

    /// Cluster 7 watched (replica 1 behind in view, replica 2 syncing), cluster 9 watched, one more heard only.
    static func lines() -> [(Int64, String)] {
        func retagged(_ text: String, _ id: String) -> String { text.replacingOccurrences(of: clusterID, with: id) }
        return [
            (90, replicaLines(0, view: 4)), (90, replicaLines(1, view: 3)), (90, replicaLines(2, sync: 2, view: 4)),
            (91, retagged(replicaLines(0), other)), (91, retagged(replicaLines(1, status: 1), other)),
            (92, retagged(replicaLines(0), heardOnly)), (92, retagged(replicaLines(3), heardOnly)),
        ]
    }

    static let watched = [three, WatchedCluster(id: other, name: "9", addresses: ["10.0.1.1:3000", "10.0.1.2:3000", "10.0.1.3:3000"])]

    static func report(onlyCluster: String?, progress: inout ProgressTracker, at second: Int64) -> HealthReport {
        HealthEvaluator.evaluate(
            watched: watched, signals: signals(lines()), probes: allUp(at: .seconds(second)),
            policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), progress: &progress, now: .seconds(second),
            onlyCluster: onlyCluster)
    }

    @Test(arguments: [clusterID, other, heardOnly])
    func aClustersReportAndFamiliesAreTheWholeOnesPart(_ id: String) {
        var wholeProgress = ProgressTracker()
        var oneProgress = ProgressTracker()
        // Twice, so that the tracker's "behind since" matters (replica 1 of cluster 7 trails in view).
        _ = Self.report(onlyCluster: nil, progress: &wholeProgress, at: 95)
        _ = Self.report(onlyCluster: id, progress: &oneProgress, at: 95)
        let whole = Self.report(onlyCluster: nil, progress: &wholeProgress, at: 100)
        let one = Self.report(onlyCluster: id, progress: &oneProgress, at: 100)
        #expect(whole.clusters.count == 3)
        #expect(one.clusters.map(\.id) == [id])
        #expect(one.clusters == whole.clusters.filter { $0.id == id })

        func rendered(_ families: [StaticFamily]) -> [String: [String]] {
            Dictionary(
                uniqueKeysWithValues: families.map { family in
                    (
                        family.name,
                        family.samples.map { "\($0.labels.rendered) \($0.value)" }.sorted()
                            + family.summaries.map { "\($0.labels.rendered) \($0.sum) \($0.count)" }.sorted()
                    )
                })
        }
        let limited = HealthMetrics.families(whole).compactMap { $0.limited(to: .cluster(id)) }
        let own = HealthMetrics.families(one).filter { !$0.samples.isEmpty || !$0.summaries.isEmpty }
        #expect(!limited.isEmpty)
        #expect(rendered(own) == rendered(limited))
    }

    /// A one-cluster evaluation keeps what the tracker remembers of the other clusters' replicas: since when replica 1
    /// of cluster 7 trails its cluster's view (15 s allowed).
    @Test func aOneClusterEvaluationForgetsNoOtherClustersProgress() {
        var progress = ProgressTracker()
        _ = Self.report(onlyCluster: nil, progress: &progress, at: 95)
        _ = Self.report(onlyCluster: Self.other, progress: &progress, at: 105)
        let alone = Self.report(onlyCluster: clusterID, progress: &progress, at: 112)
        #expect(alone.cluster(clusterID)?.replicas[1].state == .behind)
        // Without the evaluation at 95 it has trailed for less than it may.
        var fresh = ProgressTracker()
        #expect(Self.report(onlyCluster: clusterID, progress: &fresh, at: 112).cluster(clusterID)?.replicas[1].state == .healthy)
    }
}
