import MetricStore

/// Merges StatsD signals and TCP probe results into replica and cluster
/// verdicts. Pure: no sockets, no clock; `now` is a parameter.
public enum HealthEvaluator {
    public static func evaluate(watched: [WatchedCluster], signals: TigerBeetleSignals,
                                probes: [ReplicaKey: ProbeResult], policy: HealthPolicy, now: Int64) -> HealthReport {
        var clusters: [ClusterVerdict] = []
        let watchedIDs = Set(watched.map(\.id))
        for cluster in watched {
            let replicas = cluster.addresses.enumerated().map { replica, address in
                evaluateReplica(ReplicaKey(cluster: cluster.id, replica: replica), address: address,
                                replicaCount: cluster.addresses.count, signals: signals, probe: probes[ReplicaKey(cluster: cluster.id, replica: replica)],
                                probed: true, policy: policy, now: now)
            }
            clusters.append(clusterVerdict(id: cluster.id, name: cluster.name, watched: true, replicas: replicas, signals: signals))
        }
        // Clusters heard from but not configured: replica count learned, quorum unknown.
        let heard = Dictionary(grouping: signals.heardReplicas.filter { !watchedIDs.contains($0.cluster) }, by: \.cluster)
        for (id, keys) in heard.sorted(by: { $0.key < $1.key }) {
            let replicas = keys.map {
                evaluateReplica($0, address: nil, replicaCount: keys.count, signals: signals, probe: nil,
                                probed: false, policy: policy, now: now)
            }
            clusters.append(clusterVerdict(id: id, name: nil, watched: false, replicas: replicas, signals: signals))
        }
        return HealthReport(generatedAt: Double(now) / 1e9, clusters: clusters)
    }

    static func evaluateReplica(_ key: ReplicaKey, address: String?, replicaCount: Int, signals: TigerBeetleSignals,
                                probe: ProbeResult?, probed: Bool, policy: HealthPolicy, now: Int64) -> ReplicaVerdict {
        var reasons: [Reason] = []
        var waitingFor: [String] = []
        if probed {
            if let probe {
                if !probe.success {
                    reasons.append(Reason(.unreachable, "TCP connect to \(address ?? "?") failed: \(probe.error ?? "unknown error")"))
                }
            } else {
                waitingFor.append("the first TCP probe of \(address ?? "?")")
            }
        }
        let heard = signals.signals(of: key)
        var fresh = false
        if let heard, heard.lastSeen > 0 {
            let age = now - heard.lastSeen
            if age > policy.staleAfter {
                reasons.append(Reason(.silent, "no StatsD for \(seconds(age)) (silent after \(seconds(policy.staleAfter)))"))
            } else {
                fresh = true
            }
        } else if now - policy.startedAt > policy.staleAfter {
            reasons.append(Reason(.silent, "no StatsD received in the \(seconds(now - policy.startedAt)) since beetlewatch started"))
        } else {
            waitingFor.append("StatsD")
        }
        // Values are judged only while fresh: a silent replica's last sample says nothing about now.
        // Every value is a whole number within its signal's `validRange` (checked when recorded), so the
        // conversions to Int below cannot trap.
        if fresh, let heard {
            if let status = heard[.status], status != 0 {
                reasons.append(Reason(.abnormal, "replica_status \(Int(status)) (\(ReplicaState.statusName(Int(status))))"))
            }
            if let stage = heard[.syncStage], stage != 0 {
                reasons.append(Reason(.syncing, "replica_sync_stage \(Int(stage)): state sync under way"))
            }
            if replicaCount > 1, let peers = heard[.peerReplicaConnections] {
                let needed = HealthPolicy.majority(of: replicaCount) - 1
                if Int(peers) < needed {
                    reasons.append(Reason(.isolated, "connected to \(Int(peers)) of \(replicaCount - 1) peer replicas; a quorum of \(HealthPolicy.majority(of: replicaCount)) needs \(needed)"))
                }
            }
        }
        if !waitingFor.isEmpty && reasons.isEmpty {
            reasons.append(Reason(.unknown, "waiting for " + waitingFor.joined(separator: " and ")))
        }
        let state = ReplicaState.severityOrder.first { s in reasons.contains { $0.state == s } } ?? .healthy
        let status = heard?[.status].map { Int($0) }
        return ReplicaVerdict(
            cluster: key.cluster, replica: key.replica, address: address, state: state, healthy: state == .healthy,
            reasons: reasons,
            lastSeen: heard.flatMap { $0.lastSeen > 0 ? Double($0.lastSeen) / 1e9 : nil },
            secondsSinceSeen: heard.flatMap { $0.lastSeen > 0 ? Double(now - $0.lastSeen) / 1e9 : nil },
            probe: probe, status: status, statusName: status.map(ReplicaState.statusName),
            syncStage: heard?[.syncStage], peerReplicaConnections: heard?[.peerReplicaConnections],
            view: heard?[.view], commitMax: heard?[.commitMax], fresh: fresh,
            journalFaulty: heard?[.journalFaulty], gridBlocksMissing: heard?[.gridBlocksMissing],
            clockDeltaSeconds: heard?[.clockDeltaNanoseconds].map { $0 / 1e9 }
        )
    }

    static func clusterVerdict(id: String, name: String?, watched: Bool, replicas: [ReplicaVerdict],
                               signals: TigerBeetleSignals) -> ClusterVerdict {
        let count = replicas.count
        let healthy = replicas.filter(\.healthy).count
        let needed = HealthPolicy.majority(of: count)
        let quorum: Bool? = watched ? healthy >= needed : nil
        let waiting = replicas.filter { $0.state == .unknown }.count
        let quorumLost = watched && healthy + waiting < needed
        let summary: String
        switch quorum {
        case true?: summary = "quorum: \(healthy) of \(count) replicas healthy (needs \(needed))"
        case false?: summary = "NO QUORUM: \(healthy) of \(count) replicas healthy (needs \(needed))"
        case nil: summary = "quorum unknown: replica count not configured (\(count) replicas heard from, \(healthy) healthy)"
        }
        let history = signals.clusters[id]
        return ClusterVerdict(id: id, name: name, watched: watched, replicaCount: count, healthyReplicas: healthy,
                              quorumSize: needed, quorum: quorum, quorumLost: quorumLost, highestView: history?.highestView,
                              viewChanges: history?.viewChanges ?? 0, replicas: replicas, summary: summary)
    }

    static func seconds(_ nanoseconds: Int64) -> String {
        let s = Double(nanoseconds) / 1e9
        return s >= 10 ? "\(Int(s.rounded()))s" : "\((s * 10).rounded() / 10)s"
    }
}
