import Health
import TigerBeetle

/// A rule's condition holding for one subject at one instant.
struct AlertCondition: Equatable {
    var name: AlertName
    var labels: [String: String]
    var summary: String
    var description: String
}

/// The built-in rules over the health model. Pure; the same meanings as `prometheus/alerts.yml`.
enum BuiltInRules {
    /// Every condition that holds in `report`. `viewChangedAt` is when each cluster's view last rose.
    static func conditions(_ report: HealthReport, rules: AlertRules, viewChangedAt: [String: WallInstant], now: WallInstant)
        -> [AlertCondition]
    {
        var out: [AlertCondition] = []
        func add(_ name: AlertName, _ labels: [String: String], _ summary: String, _ description: String) {
            guard rules[name].enabled else { return }
            out.append(AlertCondition(name: name, labels: labels, summary: summary, description: description))
        }
        for cluster in report.clusters {
            let clusterName = cluster.name ?? cluster.id
            if cluster.quorumLost {
                add(
                    .quorumLost, ["cluster": cluster.id],
                    "TigerBeetle cluster \(clusterName) has lost quorum",
                    "\(cluster.summary). Failing: "
                        + cluster.replicas.filter { !$0.healthy }.map {
                            "replica \($0.replica) (\($0.reasons.map(\.detail).joined(separator: "; ")))"
                        }.joined(separator: ", ") + ". " + quorumEvidence(cluster))
            }
            if let changedAt = viewChangedAt[cluster.id], now - changedAt < (rules[.viewChanged].window ?? .zero) {
                add(
                    .viewChanged, ["cluster": cluster.id],
                    "TigerBeetle cluster \(clusterName) changed view",
                    "The cluster's highest view rose to \(cluster.highestView.map { String(Int($0)) } ?? "?") (\(cluster.viewChanges) view changes seen since beetlewatch started)."
                )
            }
            if cluster.releases.count > 1 {
                add(
                    .releaseMismatch, ["cluster": cluster.id], "TigerBeetle cluster \(clusterName) runs several releases",
                    (cluster.notes.first { $0.hasPrefix("replicas report different releases") } ?? cluster.releases.joined(separator: ", "))
                        + ".")
            }
            for replica in cluster.replicas {
                let labels = ["cluster": cluster.id, "replica": String(replica.replica)]
                let who = "replica \(replica.replica) of cluster \(clusterName)"
                for reason in replica.reasons {
                    switch reason.state {
                    case .abnormal:
                        let status = replica.statusName ?? "unknown"
                        add(
                            .replicaStatusAbnormal, labels.merging(["status": status]) { $1 },
                            "TigerBeetle \(who) is \(status)", "\(reason.detail).")
                    case .syncing:
                        add(.replicaSyncing, labels, "TigerBeetle \(who) is state-syncing", "\(reason.detail).")
                    case .unreachable:
                        add(
                            .replicaUnreachable, labels.merging(["address": replica.address ?? ""]) { $1 },
                            "TigerBeetle \(who) is unreachable", "\(reason.detail).")
                    case .hung:
                        add(
                            .replicaHung, labels.merging(["address": replica.address ?? ""]) { $1 },
                            "TigerBeetle \(who) is hung", "\(reason.detail).")
                    case .behind:
                        add(.replicaBehind, labels, "TigerBeetle \(who) is behind its cluster", "\(reason.detail).")
                    case .silent:
                        // A replica paged as down, hung or out of sight is silent as a consequence: one fault, one page.
                        guard !replica.reasons.contains(where: { [.unreachable, .hung, .unobserved].contains($0.state) }) else { break }
                        add(.replicaSilent, labels, "TigerBeetle \(who) has stopped sending StatsD", "\(reason.detail).")
                    case .isolated:
                        add(.replicaIsolated, labels, "TigerBeetle \(who) is cut off from its peers", "\(reason.detail).")
                    case .unobserved:
                        add(
                            .replicaUnobserved, labels.merging(["address": replica.address ?? ""]) { $1 },
                            "beetlewatch cannot reach TigerBeetle \(who), which commits", "\(reason.detail).")
                    case .healthy, .unknown:
                        break
                    }
                }
                guard replica.fresh else { continue }
                let faulty = replica.journalFaulty ?? 0
                let missing = replica.gridBlocksMissing ?? 0
                if faulty > 0 || missing > 0 {
                    add(
                        .storageFaults, labels, "TigerBeetle \(who) reports storage faults",
                        "journal_faulty \(Int(faulty)), grid_blocks_missing \(Int(missing)): the replica is repairing from its peers.")
                }
                if let delta = replica.clockDeltaSeconds, let limit = rules[.clockSkew].threshold, abs(delta) > limit {
                    add(
                        .clockSkew, labels, "TigerBeetle \(who) has a skewed clock",
                        "Its clock is \(delta) s off the cluster's agreed time (limit \(limit) s).")
                }
            }
        }
        return out
    }

    /// What backs a QuorumLost verdict besides the replicas': the canary's failure, or (without one) which replicas only
    /// went unanswered, which beetlewatch's own network explains as well as their being down.
    static func quorumEvidence(_ cluster: ClusterVerdict) -> String {
        if cluster.committing == false, let canary = cluster.canary {
            return "The cluster does not commit beetlewatch's request: \(canary.error ?? "no reply")."
        }
        let unanswered = cluster.replicas.filter { replica in
            replica.probe.map { $0.outcome == .hung || $0.unanswered } ?? false
        }
        guard !unanswered.isEmpty else { return "" }
        let reachable = cluster.replicas.filter { $0.probe?.outcome == .answering }.compactMap { replica in
            replica.peerReplicaConnections.map { "replica \(replica.replica) reports \(Int($0)) peer connections" }
        }
        return
            "Replica\(unanswered.count == 1 ? "" : "s") \(unanswered.map { String($0.replica) }.joined(separator: ", ")) went unanswered without a refusal: beetlewatch's own network is as likely a cause as the replicas"
            + (reachable.isEmpty ? "" : " (\(reachable.joined(separator: ", ")))")
            + "; the canary (--canary.enabled) tells the two apart."
    }
}
