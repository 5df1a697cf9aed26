import TigerBeetle

/// Merges StatsD signals and probe results into replica and cluster verdicts. Pure: no sockets, no
/// clock; `now` is a parameter, and what must be remembered between evaluations (since when a replica
/// trails its cluster) is in a `ProgressTracker` the caller keeps.
public enum HealthEvaluator {
    /// An evaluation that remembers nothing: a replica is never `behind` on one evaluation alone.
    public static func evaluate(
        watched: [WatchedCluster], signals: TigerBeetleSignals,
        probes: [ReplicaKey: ProbeResult], canaries: [String: CanaryResult] = [:], policy: HealthPolicy, now: WallInstant
    ) -> HealthReport {
        var progress = ProgressTracker()
        return evaluate(
            watched: watched, signals: signals, probes: probes, canaries: canaries, policy: policy, progress: &progress, now: now)
    }

    /// - Parameters:
    ///   - canaries: each watched cluster's canary's latest result, by cluster id.
    ///   - onlyCluster: judge this cluster alone (a per-cluster `/metrics` page), nil: every cluster. The cluster's
    ///     verdict is the one a whole evaluation gives it; the tracker keeps what it holds for the other clusters.
    public static func evaluate(
        watched: [WatchedCluster], signals: TigerBeetleSignals, probes: [ReplicaKey: ProbeResult],
        canaries: [String: CanaryResult] = [:], policy: HealthPolicy, progress: inout ProgressTracker, now: WallInstant,
        onlyCluster: String? = nil
    ) -> HealthReport {
        var clusters: [ClusterVerdict] = []
        let watchedIDs = Set(watched.map(\.id))
        for cluster in watched where onlyCluster == nil || cluster.id == onlyCluster {
            let replicas = cluster.addresses.enumerated().map { replica, address in
                evaluateReplica(
                    ReplicaKey(cluster: cluster.id, replica: replica), address: address,
                    replicaCount: cluster.addresses.count, signals: signals,
                    probe: probes[ReplicaKey(cluster: cluster.id, replica: replica)],
                    probed: true, policy: policy, now: now)
            }
            clusters.append(
                clusterVerdict(
                    id: cluster.id, name: cluster.name, watched: true, replicas: replicas, signals: signals,
                    canary: canaries[cluster.id], policy: policy, progress: &progress, now: now))
        }
        // Clusters heard from but not configured: replica count learned, quorum unknown.
        let heard = Dictionary(
            grouping: signals.keys.filter { !watchedIDs.contains($0.cluster) && (onlyCluster == nil || $0.cluster == onlyCluster) }
                .sorted(),
            by: \.cluster)
        for (id, keys) in heard.sorted(by: { $0.key < $1.key }) {
            let replicas = keys.map {
                evaluateReplica(
                    $0, address: nil, replicaCount: keys.count, signals: signals, probe: nil,
                    probed: false, policy: policy, now: now)
            }
            clusters.append(
                clusterVerdict(
                    id: id, name: nil, watched: false, replicas: replicas, signals: signals,
                    policy: policy, progress: &progress, now: now))
        }
        // A one-cluster evaluation does not know which of the others' replicas are gone: whole evaluations (the
        // alert loop's, every interval) forget them.
        if onlyCluster == nil {
            progress.keep(
                only: Set(clusters.flatMap { cluster in cluster.replicas.map { ReplicaKey(cluster: cluster.id, replica: $0.replica) } }))
        }
        return HealthReport(generatedAt: now.unixSeconds, clusters: clusters)
    }

    static func evaluateReplica(
        _ key: ReplicaKey, address: String?, replicaCount: Int, signals: TigerBeetleSignals,
        probe reported: ProbeResult?, probed: Bool, policy: HealthPolicy, now: WallInstant
    ) -> ReplicaVerdict {
        var reasons: [Reason] = []
        var waitingFor: [String] = []
        // A result older than the probe's interval plus its timeout says nothing about now (a stuck prober).
        let heard = signals.signals(of: key).map { $0.judged(now: now, staleAfter: policy.staleAfter) }
        let age = reported.map { now - $0.at }
        let probe = age.map { $0 <= policy.probeResultTTL } == true ? reported : nil
        if probed {
            if let probe {
                switch probe.outcome {
                case .unreachable
                where !probe.everReachable && heard.map({ $0.lastSeen <= .epoch }) != false
                    && now - policy.startedAt <= policy.staleAfter:
                    // Start-up: beetlewatch may start before the cluster does. A replica neither reachable nor heard
                    // from yet is starting, not lost, for the first stale-after (then unreachable, as ever).
                    waitingFor.append(
                        "\(address ?? "?") to accept connections (\(probe.error ?? "unreachable") since beetlewatch started \(seconds(now - policy.startedAt)) ago; unreachable after \(seconds(policy.staleAfter)))"
                    )
                case .unreachable:
                    // What failed, in words: the connect, or what came after it.
                    let connecting = probe.failure == nil || probe.failure == .refused || probe.failure == .connect
                    reasons.append(
                        Reason(
                            .unreachable,
                            connecting
                                ? "TCP connect to \(address ?? "?") failed: \(probe.error ?? "unknown error")"
                                : "\(address ?? "?"): \(probe.error ?? "unknown error")"))
                case .hung:
                    reasons.append(
                        Reason(
                            .hung, "\(address ?? "?") accepts connections but its event loop does not answer: \(probe.error ?? "no pong")"))
                case .answering, .evicted, .connected:
                    break
                }
            } else if let age {
                waitingFor.append("a current probe result (the last is \(seconds(age)) old; the prober may be stuck)")
            } else {
                waitingFor.append("the first probe of \(address ?? "?")")
            }
        }
        var fresh = false
        // Silence is counted from the last line, or from when the replica became reachable (it cannot send
        // before it runs), or from beetlewatch's start: a replica starting up is not silent.
        let reachableSince = probe?.reachableSince ?? (probed ? nil : policy.startedAt)
        let heardAt = heard.flatMap { $0.lastSeen > .epoch ? $0.lastSeen : nil }
        let quietSince = [heardAt, reachableSince, policy.startedAt].compactMap { $0 }.max() ?? policy.startedAt
        let quiet = now - quietSince
        if let heardAt, now - heardAt <= policy.staleAfter {
            fresh = true
        } else if quiet > policy.staleAfter, heardAt != nil || reachableSince != nil {
            if let heardAt {
                reasons.append(Reason(.silent, "no StatsD for \(seconds(now - heardAt)) (silent after \(seconds(policy.staleAfter)))"))
            } else {
                reasons.append(
                    Reason(
                        .silent,
                        "no StatsD received in the \(seconds(quiet)) since \(probed ? "it became reachable" : "beetlewatch started")"))
            }
        } else {
            waitingFor.append(heardAt == nil ? "StatsD" : "StatsD since it became reachable again \(seconds(quiet)) ago")
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
                    reasons.append(
                        Reason(
                            .isolated,
                            "connected to \(Int(peers)) of \(replicaCount - 1) peer replicas; a quorum of \(HealthPolicy.majority(of: replicaCount)) needs \(needed)"
                        ))
                }
            }
        }
        if !waitingFor.isEmpty && reasons.isEmpty {
            reasons.append(Reason(.unknown, "waiting for " + waitingFor.joined(separator: " and ")))
        }
        let state = state(of: reasons)
        let status = heard?[.status].map { Int($0) }
        let statsdRelease = fresh ? heard?[.release].map(releaseText) : nil
        return ReplicaVerdict(
            cluster: key.cluster, replica: key.replica, address: address, state: state, healthy: state == .healthy,
            reasons: reasons,
            lastSeen: heardAt?.unixSeconds,
            secondsSinceSeen: heardAt.map { Double((now - $0).nanoseconds) / 1e9 },
            probe: reported, status: status, statusName: status.map(ReplicaState.statusName),
            syncStage: heard?[.syncStage], peerReplicaConnections: heard?[.peerReplicaConnections],
            view: heard?[.view], pongView: probe?.view.map(Double.init), commitMax: heard?[.commitMax],
            release: probe?.release ?? statsdRelease, fresh: fresh,
            journalFaulty: heard?[.journalFaulty], gridBlocksMissing: heard?[.gridBlocksMissing],
            clockDeltaSeconds: heard?[.clockDeltaNanoseconds].map { $0 / 1e9 }
        )
    }

    /// Whether the cluster commits, from its canary: true while its last commit is recent (within the canary's interval
    /// and timeout), false while its request goes unanswered, nil when nothing is known (no canary, not started yet,
    /// evicted, or its result is stale).
    static func committing(_ canary: CanaryResult?, policy: HealthPolicy, now: WallInstant) -> Bool? {
        guard let canary else { return nil }
        switch canary.state {
        case .committing:
            guard let last = canary.lastCommitAt, now - last <= policy.canaryResultTTL else { return nil }
            return true
        case .failing: return false
        case .starting, .evicted: return nil
        }
    }

    static func clusterVerdict(
        id: String, name: String?, watched: Bool, replicas evaluated: [ReplicaVerdict], signals: TigerBeetleSignals,
        canary: CanaryResult? = nil, policy: HealthPolicy, progress: inout ProgressTracker, now: WallInstant
    ) -> ClusterVerdict {
        var replicas = evaluated
        var notes: [String] = []
        let committing = watched ? committing(canary, policy: policy, now: now) : nil
        // The cluster commits, but not through this backup: a request sent through it alone did not reach the primary.
        // Only a replica that has answered pings since is judged so (one beetlewatch cannot reach, or a stopped one,
        // never got it).
        if committing == true, let canary {
            for unforwarded in canary.unforwarded {
                guard let i = replicas.firstIndex(where: { $0.replica == unforwarded.replica }),
                    // Answering since, and without a break since before: a stopped replica's last pong predates the
                    // request it never got (its result's `at` moves on while its next ping is out, not yet missed: live, a
                    // replica stopped a moment ago was `isolated` for 3 to 9 polls before it was hung, in 4 of 5 stops),
                    // and one that continued has answered only since (the requests sent through it while it was stopped
                    // are named until one through it commits: a simulated stop of 15 s paged Isolated after it).
                    let probe = replicas[i].probe, probe.outcome == .answering, let answered = probe.answeredAt,
                    answered > unforwarded.since, let answering = probe.reachableSince, answering <= unforwarded.since,
                    !replicas[i].reasons.contains(where: { [.isolated, .unreachable, .hung].contains($0.state) })
                else { continue }
                replicas[i].reasons.append(
                    Reason(
                        .isolated,
                        "beetlewatch's request sent through it did not reach the primary within \(seconds(policy.canaryForwardWait)) (the cluster committed it once sent to every replica), for \(seconds(now - unforwarded.since)): it cannot reach its primary"
                    ))
                rejudge(&replicas[i])
            }
        }
        // The cluster commits: a replica beetlewatch cannot reach without a refusal (its connects or pings go unanswered)
        // is not known to be down. The path from beetlewatch is as likely: unobserved, not unreachable.
        if committing == true {
            for i in replicas.indices where replicas[i].state == .unreachable && replicas[i].probe?.unanswered == true {
                replicas[i].reasons = replicas[i].reasons.map { reason in
                    reason.state == .unreachable
                        ? Reason(
                            .unobserved,
                            "beetlewatch cannot reach \(replicas[i].address ?? "it") (\(replicas[i].probe?.error ?? "no answer"), no refusal) while the cluster commits beetlewatch's requests: beetlewatch's own network is the suspect"
                        )
                        : reason
                }
                rejudge(&replicas[i])
            }
        }
        // An eviction means the cluster refuses the release beetlewatch pings with; its backups then stay
        // silent, which must not read as hung.
        if let evicted = replicas.first(where: { $0.probe?.outcome == .evicted }) {
            notes.append("replica \(evicted.replica) evicted beetlewatch's ping: \(evicted.probe?.error ?? "release refused")")
            for i in replicas.indices where replicas[i].state == .hung && replicas[i].probe?.release == nil {
                replicas[i].reasons = replicas[i].reasons.map { reason in
                    reason.state == .hung
                        ? Reason(
                            .unknown,
                            "no pong, as expected while the cluster refuses beetlewatch's ping release (see replica \(evicted.replica))")
                        : reason
                }
                rejudge(&replicas[i])
            }
        }
        let lagging = progress.behind(
            cluster: id,
            replicas.map { replica in
                // A replica that cannot answer is not judged on its progress (and its lag timer restarts when it
                // answers again: catching up after a stop is not falling behind).
                let judged = replica.state != .hung && replica.state != .unreachable
                let pong = judged ? replica.pongView : nil
                let statsd = judged && replica.fresh ? replica.view : nil
                return ProgressTracker.Progress(
                    replica: replica.replica, view: [pong, statsd].compactMap { $0 }.max(),
                    viewFromPong: pong != nil && pong! >= (statsd ?? 0),
                    commitMax: judged && replica.fresh ? replica.commitMax : nil)
            }, policy: policy, now: now)
        for (index, reasons) in lagging {
            guard let i = replicas.firstIndex(where: { $0.replica == index }) else { continue }
            replicas[i].reasons += reasons
            rejudge(&replicas[i])
        }
        // What runs: a replica that does not accept connections runs nothing (it may be restarting into a new release), so
        // the release it last answered with is not held against the others (the simulator's seed 9101311).
        let running = replicas.filter { $0.state != .unreachable }
        let releases = Set(running.compactMap(\.release)).sorted()
        if releases.count > 1 {
            notes.append(
                "replicas report different releases (an upgrade under way?): "
                    + releases.map { release in
                        "\(release) on " + running.filter { $0.release == release }.map { String($0.replica) }.joined(separator: ", ")
                    }.joined(separator: "; "))
        }
        let count = replicas.count
        let healthy = replicas.filter(\.healthy).count
        let needed = HealthPolicy.majority(of: count)
        let waiting = replicas.filter { $0.state == .unknown }.count
        // The best evidence is the cluster committing a request: while the canary commits, the cluster has quorum
        // whatever beetlewatch can reach; while it fails, it has none. Quorum is lost (and paged) when the replicas' own
        // evidence says so too, or when the canary has failed for longer than a view change takes while a majority of the replicas answer
        // beetlewatch's probes (its network is then not the suspect: the replicas cannot reach each other, or the primary
        // is stuck; the simulator, seed 19: two replicas cut off from their peers, all answering, nothing paged);
        // without a canary, the replicas' evidence decides alone.
        let quorum: Bool? = watched ? (committing ?? (healthy >= needed)) : nil
        // Reached since the canary began to fail: the replica answered beetlewatch (a pong, an eviction) or accepted its
        // connection (tcp mode) after that (an answer from before a cut proves nothing about the path now).
        let failingSince = canary?.failingSince
        let answering = replicas.filter { replica in
            guard let probe = replica.probe, [.answering, .connected, .evicted].contains(probe.outcome), let failingSince else {
                return false
            }
            return probe.at >= failingSince
        }.count
        let failingLong = canary?.failingSince.map { now - $0 >= policy.canaryFailingIsQuorumLostAfter } ?? false
        // Only once the canary has committed in this run: a cluster that has not yet committed since beetlewatch started
        // (both started together; replicas answer pings while the cluster recovers) is starting, not down (live: a
        // QuorumLost page at every cold start without this).
        let hasCommitted = (canary?.commits ?? 0) > 0
        let notCommittingWhileAnswering = committing == false && failingLong && hasCommitted && answering >= needed
        let quorumLost = watched && committing != true && (healthy + waiting < needed || notCommittingWhileAnswering)
        if committing == false, !quorumLost, let canary {
            notes.append(
                "the cluster does not commit beetlewatch's request (\(canary.error ?? "no reply")) while its replicas' evidence does not show quorum lost"
            )
        }
        if let canary, canary.state == .evicted {
            notes.append(canary.error ?? "the cluster evicted beetlewatch's canary")
        }
        let summary: String
        switch quorum {
        case true? where committing == true:
            summary =
                "quorum: the cluster commits (beetlewatch's request \(canary?.lastLatencySeconds.map { "took \(StatusTable.format3(milliseconds: $0))" } ?? "committed")); \(healthy) of \(count) replicas healthy"
        case true?: summary = "quorum: \(healthy) of \(count) replicas healthy (needs \(needed))"
        case false? where notCommittingWhileAnswering && healthy + waiting >= needed:
            summary =
                "NO QUORUM: beetlewatch's request goes unanswered while \(answering) of \(count) replicas answer its probes: the cluster does not commit (its replicas cannot reach each other, or its primary is stuck)"
        case false? where committing == false && !quorumLost:
            summary = "NOT COMMITTING: beetlewatch's request goes unanswered; \(healthy) of \(count) replicas healthy (needs \(needed))"
        case false? where !quorumLost:
            // Not lost: enough replicas are still to be heard from. Say so, as /ready's reasons do.
            summary = "waiting: \(healthy) of \(count) replicas healthy, \(waiting) not yet known (needs \(needed))"
        case false?: summary = "NO QUORUM: \(healthy) of \(count) replicas healthy (needs \(needed))"
        case nil: summary = "quorum unknown: replica count not configured (\(count) replicas heard from, \(healthy) healthy)"
        }
        let history = signals.clusters[id]
        assert(replicas.allSatisfy(\.isConsistent), "a replica's state is its most severe reason's, and healthy says so")
        assert(healthy == replicas.filter(\.healthy).count, "the healthy count is the healthy replicas'")
        return ClusterVerdict(
            id: id, name: name, watched: watched, replicaCount: count, healthyReplicas: healthy,
            quorumSize: needed, quorum: quorum, quorumLost: quorumLost, highestView: history?.highestView,
            viewChanges: history?.viewChanges ?? 0, releases: releases, notes: notes, replicas: replicas, summary: summary,
            canary: watched ? canary : nil, committing: committing, replicasShowQuorumLost: watched && healthy + waiting < needed)
    }

    /// The state from the reasons, after reasons were added or changed.
    static func rejudge(_ replica: inout ReplicaVerdict) {
        replica.state = state(of: replica.reasons)
        replica.healthy = replica.state == .healthy
    }

    /// The most severe of the reasons' states; healthy with none.
    static func state(of reasons: [Reason]) -> ReplicaState {
        ReplicaState.severityOrder.first { s in reasons.contains { $0.state == s } } ?? .healthy
    }

    /// A packed release (`patch | minor << 8 | major << 16`, a whole number within u32) as `0.17.9`.
    static func releaseText(_ packed: Double) -> String {
        let value = UInt32(packed)
        return "\(value >> 16).\((value >> 8) & 0xff).\(value & 0xff)"
    }

    /// A duration for a person: `3.4s`, `25s`.
    static func seconds(_ duration: Duration) -> String {
        let s = Double(duration.nanoseconds) / 1e9
        return s >= 10 ? "\(Int(s.rounded()))s" : "\((s * 10).rounded() / 10)s"
    }
}
