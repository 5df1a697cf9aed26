import Exposition
import MetricStore

/// The health model as Prometheus families.
public enum HealthMetrics {
    public static func families(_ report: HealthReport) -> [StaticFamily] {
        var probeSuccess: [(labels: LabelSet, value: Double)] = []
        var probeDuration: [(labels: LabelSet, value: Double)] = []
        var lastSeen: [(labels: LabelSet, value: Double)] = []
        var healthy: [(labels: LabelSet, value: Double)] = []
        var state: [(labels: LabelSet, value: Double)] = []
        var quorum: [(labels: LabelSet, value: Double)] = []
        var clusterReplicas: [(labels: LabelSet, value: Double)] = []
        var view: [(labels: LabelSet, value: Double)] = []
        var viewChanges: [(labels: LabelSet, value: Double)] = []
        var reasons: [(labels: LabelSet, value: Double)] = []
        var pongView: [(labels: LabelSet, value: Double)] = []
        var releaseInfo: [(labels: LabelSet, value: Double)] = []
        var roundTrips: [(labels: LabelSet, sum: Double, count: Double)] = []
        var answering: [(labels: LabelSet, value: Double)] = []
        var committing: [(labels: LabelSet, value: Double)] = []
        var canaryState: [(labels: LabelSet, value: Double)] = []
        var canaryCommits: [(labels: LabelSet, sum: Double, count: Double)] = []
        var canaryLastCommit: [(labels: LabelSet, value: Double)] = []
        var canaryFailures: [(labels: LabelSet, value: Double)] = []
        for cluster in report.clusters {
            let c = ("cluster", cluster.id)
            if let known = cluster.committing { committing.append((LabelSet([c]), known ? 1 : 0)) }
            if let canary = cluster.canary {
                for s in CanaryResult.State.allCases {
                    canaryState.append((LabelSet([c, ("state", s.rawValue)]), canary.state == s ? 1 : 0))
                }
                canaryCommits.append((LabelSet([c]), canary.latencySumSeconds, Double(canary.commits)))
                if let last = canary.lastCommitAt { canaryLastCommit.append((LabelSet([c]), last.unixSeconds)) }
                for reason in CanaryResult.failureReasons {
                    canaryFailures.append((LabelSet([c, ("reason", reason)]), Double(canary.failures[reason] ?? 0)))
                }
            }
            for replica in cluster.replicas {
                let r = ("replica", String(replica.replica))
                if let probe = replica.probe, let address = replica.address {
                    let labels = LabelSet([c, r, ("address", address)])
                    probeSuccess.append((labels, probe.success ? 1 : 0))
                    probeDuration.append((labels, probe.durationSeconds))
                    if probe.roundTrips > 0 { roundTrips.append((labels, probe.roundTripSumSeconds, Double(probe.roundTrips))) }
                    if probe.outcome == .answering || probe.outcome == .hung {
                        answering.append((labels, probe.outcome == .answering ? 1 : 0))
                    }
                }
                if let view = replica.pongView { pongView.append((LabelSet([c, r]), view)) }
                if let release = replica.release { releaseInfo.append((LabelSet([c, r, ("release", release)]), 1)) }
                for s in ReplicaState.allCases where s != .healthy {
                    reasons.append((LabelSet([c, r, ("state", s.rawValue)]), Double(replica.reasons.filter { $0.state == s }.count)))
                }
                if let seen = replica.lastSeen {
                    lastSeen.append((LabelSet([c, r]), seen))
                }
                healthy.append((LabelSet([c, r]), replica.healthy ? 1 : 0))
                for s in ReplicaState.allCases {
                    state.append((LabelSet([c, r, ("state", s.rawValue)]), replica.state == s ? 1 : 0))
                }
            }
            if let q = cluster.quorum {
                quorum.append((LabelSet([c]), q ? 1 : 0))
            }
            for s in ReplicaState.allCases {
                clusterReplicas.append((LabelSet([c, ("state", s.rawValue)]), Double(cluster.replicas.filter { $0.state == s }.count)))
            }
            if let v = cluster.highestView {
                view.append((LabelSet([c]), v))
            }
            viewChanges.append((LabelSet([c]), Double(cluster.viewChanges)))
        }
        return [
            StaticFamily(
                name: "tigerbeetle_probe_success",
                help:
                    "Whether the replica is reachable (1) or not (0): its last connect succeeded, and in vsr mode its event loop answers (a hung replica is 0 too).",
                type: .gauge, samples: probeSuccess),
            StaticFamily(
                name: "tigerbeetle_probe_duration_seconds",
                help: "The last probe's round trip: ping to pong (vsr), or resolution to connect (tcp).", type: .gauge,
                samples: probeDuration),
            StaticFamily(
                name: "tigerbeetle_probe_answering",
                help: "vsr mode: 1 while the replica's event loop answers pings, 0 while it is connected but hung.", type: .gauge,
                samples: answering),
            StaticFamily(
                summary: "tigerbeetle_probe_rtt_seconds",
                help: "Ping to pong round trips since beetlewatch started probing the replica (vsr mode).", series: roundTrips),
            StaticFamily(
                name: "tigerbeetle_replica_pong_view", help: "The view in the replica's last pong: its durable log view.", type: .gauge,
                samples: pongView),
            StaticFamily(
                name: "tigerbeetle_replica_release_info",
                help: "The replica's release (from its pong, else its StatsD), as the release label; always 1.", type: .gauge,
                samples: releaseInfo),
            StaticFamily(
                name: "tigerbeetle_replica_reasons",
                help: "How many reasons of each kind the replica's verdict holds (the verdict is the most severe; this shows every one).",
                type: .gauge, samples: reasons),
            StaticFamily(
                name: "tigerbeetle_statsd_last_seen_timestamp_seconds",
                help: "When the last StatsD line from the replica arrived, Unix time in seconds.", type: .gauge, samples: lastSeen),
            StaticFamily(
                name: "tigerbeetle_replica_healthy",
                help: "1 when the replica is reachable, sending StatsD, normal, not syncing and connected to enough peers.", type: .gauge,
                samples: healthy),
            StaticFamily(
                name: "tigerbeetle_replica_state", help: "The replica's verdict, one-hot (the most severe when several hold).",
                type: .gauge, samples: state),
            StaticFamily(
                name: "tigerbeetle_cluster_quorum", help: "1 while a majority of the cluster's configured replicas is healthy.",
                type: .gauge, samples: quorum),
            StaticFamily(
                name: "tigerbeetle_cluster_replicas", help: "The cluster's replicas, by verdict.", type: .gauge, samples: clusterReplicas),
            StaticFamily(
                name: "tigerbeetle_cluster_committing",
                help:
                    "1 while the cluster commits beetlewatch's canary request, 0 while the request goes unanswered (absent when not known).",
                type: .gauge, samples: committing),
            StaticFamily(
                name: "tigerbeetle_canary_state", help: "The canary's state, one-hot: starting, committing, failing, evicted.",
                type: .gauge,
                samples: canaryState),
            StaticFamily(
                summary: "tigerbeetle_canary_commit_seconds",
                help:
                    "The canary's commits since it started: request sent to reply received (a lookup_accounts prepared through consensus).",
                series: canaryCommits),
            StaticFamily(
                name: "tigerbeetle_canary_last_commit_timestamp_seconds",
                help: "When the cluster last committed the canary's request, Unix time in seconds.", type: .gauge, samples: canaryLastCommit
            ),
            StaticFamily(
                name: "tigerbeetle_canary_failures_total",
                help:
                    "Canary checks that failed, by reason: timeout (no reply in time), no_connection, evicted, protocol (a connection closed for what it sent).",
                type: .counter, samples: canaryFailures),
            StaticFamily(
                name: "tigerbeetle_cluster_view", help: "The highest view any replica of the cluster reported.", type: .gauge, samples: view
            ),
            StaticFamily(
                name: "tigerbeetle_cluster_view_changes_total",
                help: "View changes seen, counted from rises of the cluster's highest view.", type: .counter, samples: viewChanges),
        ]
    }

    /// Names the store must not create.
    public static var reservedNames: Set<String> {
        Set(families(HealthReport(generatedAt: 0, clusters: [])).flatMap(\.sampleNames))
    }
}
