import TigerBeetle

/// Since when each replica has trailed its cluster: the memory the `behind` verdict needs, kept between
/// evaluations. Pure: time is a parameter; replicas not observed in an evaluation are forgotten.
public struct ProgressTracker: Sendable {
    /// A replica trailing its cluster's `commit_max`: since when, and the cluster's highest then.
    struct CommitLag: Sendable {
        var since: WallInstant
        var clusterHighestThen: Double
    }

    private var viewBehindSince: [ReplicaKey: WallInstant] = [:]
    private var commitBehind: [ReplicaKey: CommitLag] = [:]

    public init() {}

    /// One replica's progress as evaluated now: its view (from a fresh pong or fresh StatsD), whether that
    /// view came from a pong, and its fresh `commit_max`.
    struct Progress {
        var replica: Int
        var view: Double?
        var viewFromPong: Bool
        var commitMax: Double?
    }

    /// The `behind` reasons of a cluster's replicas, by replica index, updating what is remembered.
    mutating func behind(cluster: String, _ replicas: [Progress], policy: HealthPolicy, now: WallInstant) -> [Int: [Reason]] {
        var out: [Int: [Reason]] = [:]
        // The cluster's view and commit are what a majority of its replicas corroborates (the majority-th highest
        // reported), not the highest anyone claims: one voice (a rogue listener on a replica's port, a forged datagram)
        // cannot make the others behind.
        let quorum = HealthPolicy.majority(of: replicas.count)
        let highestView = Self.corroborated(replicas.compactMap(\.view), by: quorum)
        let highestCommit = Self.corroborated(replicas.compactMap(\.commitMax), by: quorum)
        for replica in replicas {
            let key = ReplicaKey(cluster: cluster, replica: replica.replica)
            if let view = replica.view, let highestView, view < highestView {
                let since = viewBehindSince[key] ?? now
                viewBehindSince[key] = since
                // A view known only from StatsD may be one StatsD interval old.
                let allowed = policy.viewLagAfter + (replica.viewFromPong ? .zero : HealthPolicy.statsdInterval)
                if now - since > allowed {
                    out[replica.replica, default: []].append(
                        Reason(
                            .behind,
                            "in view \(Int(view)) while its cluster is in view \(Int(highestView)), for \(HealthEvaluator.seconds(now - since))"
                        ))
                }
            } else {
                viewBehindSince[key] = nil
            }
            if let commit = replica.commitMax, let highestCommit, highestCommit - commit > policy.commitLagOps {
                let lag = commitBehind[key] ?? CommitLag(since: now, clusterHighestThen: highestCommit)
                commitBehind[key] = lag
                if now - lag.since > policy.commitLagAfter, highestCommit > lag.clusterHighestThen {
                    out[replica.replica, default: []].append(
                        Reason(
                            .behind,
                            "commit_max \(Int(commit)) trails its cluster's \(Int(highestCommit)) by \(Int(highestCommit - commit)) ops (more than \(Int(policy.commitLagOps))) for \(HealthEvaluator.seconds(now - lag.since)) while the others advance"
                        ))
                }
            } else {
                commitBehind[key] = nil
            }
        }
        return out
    }

    /// The highest value at least `quorum` of `values` reach (all of them, when fewer report): the `quorum`-th highest.
    static func corroborated(_ values: [Double], by quorum: Int) -> Double? {
        guard !values.isEmpty, quorum > 0 else { return nil }
        let sorted = values.sorted(by: >)
        return sorted[min(quorum, sorted.count) - 1]
    }

    /// Forgets replicas not in `live`.
    mutating func keep(only live: Set<ReplicaKey>) {
        viewBehindSince = viewBehindSince.filter { live.contains($0.key) }
        commitBehind = commitBehind.filter { live.contains($0.key) }
    }
}
