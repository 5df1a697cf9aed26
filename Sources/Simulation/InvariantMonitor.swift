import Alerting
import Config
import Health
import Probe
import TigerBeetle

/// The invariants every simulated run is held to, checked at every step against the ground truth (never against
/// what the agent believes). Each failure has a stable name; the first one ends the run.
public struct InvariantMonitor: Sendable {
    public struct Violation: Error, Sendable, CustomStringConvertible {
        /// Stable: `false-quorum-lost`, `ready-closed-while-committing`, `late-crash`, `late-hang`,
        /// `late-quorum-lost`, `page-during-quorum-loss`, `false-hung`, `false-unreachable`, `false-syncing`,
        /// `false-release-mismatch`, `unresolved`,
        /// `page-in-quiet-run`, `forbidden-bytes`, `unbounded-series`.
        public var name: String
        public var at: MonotonicInstant
        public var detail: String
        public var description: String { "\(name) at \(FaultPlan.seconds(at)) s: \(detail)" }
    }

    /// The bounds at the defaults (issue 25): a crash is `unreachable`, a hang `hung`, a quorum loss paged, within these.
    public static let crashBound: Duration = .seconds(2)
    /// A stop just after a pong: the next ping leaves up to an interval later, the one after it another interval later,
    /// and it is missed a timeout after it left (two missed in a row: hung).
    public static let hangBound: Duration = probeInterval * 2 + probeTimeout
    /// On a path that lost or held segments in the last minute (`ProbeTiming.latePongMemory`) a ping may wait up to twice
    /// the timeout while the round trips learnt there still vary, and hung is asked again on a fresh connection, whose
    /// first ping waits as long: two pings missed 2 s after they left (the second 4 s after a stop just after a pong),
    /// then the fresh connection's (6 s), and a connect's round trip. The price of not taking a pong held on a lossy path
    /// for a hung replica (seed 901005: stopped 1.2 s after its path healed, hung after 4.2 s; seed 8011432: stopped
    /// 1.6 s after a path of 282 ms and 30% loss healed, hung after 5.8 s).
    public static let hangBoundAfterAFaultyPath: Duration = probeInterval * 2 + probeTimeout * 4 + .milliseconds(500)
    /// How long after a faulty path heals the agent may still count it faulty: its memory of a path's losses
    /// (`ProbeTiming.latePongMemory`, a minute) runs from when it saw them, and the segments a cut or lossy path held
    /// cross it, and are counted, up to a few seconds after it heals (seed 19346265: stopped 57.2 s after a cut healed,
    /// found hung on the rule for a faulty path).
    public static let faultyPathMemory: Duration = ProbeTiming.latePongMemory + hindsight
    public static let quorumLossBound: Duration = .seconds(3)
    /// A quorum lost with every replica up (cut off from each other, a stuck primary): the canary's word alone, after
    /// its allowance for a view change (2.5 s at the defaults) and a second's evaluation.
    public static let partitionBound: Duration = .seconds(6)
    /// How far back a fault still explains a page (the agent's evidence takes this long to clear).
    public static let hindsight: Duration = .seconds(5)
    /// An alert still firing this long after its condition truly ended was not resolved.
    public static let resolveBound: Duration = .seconds(15)
    /// How long the agent judges a value it was told (its default `--statsd.stale-after`): a page on a sync it was told
    /// of that long ago is its last word, not a false page (seed 9321390: Syncing held back by QuorumLost, and paged once
    /// that resolved, on a stage heard 24 s before; the lines saying the sync had ended lost).
    public static let judgedFor: Duration = AgentConfig().statsdStaleAfter
    /// The agent's default probe interval: what a stop behind a faulty path adds to its hang bound (below).
    static let probeInterval: Duration = AgentConfig().probeInterval
    /// The agent's default probe timeout.
    static let probeTimeout: Duration = AgentConfig().probeTimeout
    /// What only StatsD tells (a sync's stage, a replica's release) the agent hears once a cycle (10 s), up to 0.5 s
    /// late: a page or a resolution may follow the truth by that much more.
    public static let statsdHindsight: Duration = HealthPolicy.statsdInterval + hindsight
    /// A cold start: the agent has no evidence yet, so readiness is not judged.
    public static let coldStart: Duration = .seconds(15)

    /// The wall time at the simulation's zero: alerts' times are on the wall clock.
    static let epoch = SimulatedClock().wallStart
    let cluster: String
    let quiet: Bool
    let maxSeries: Int
    /// Alerts paged (sent firing to the receiver) and not yet sent resolved, by fingerprint.
    private var paged: [String: Alert] = [:]
    /// Since when a paged alert has not been firing (its resolution is due).
    private var notFiringSince: [String: MonotonicInstant] = [:]
    /// Since when an alert the receiver last heard firing has not been firing in the agent (its resolution is owed to it).
    private var owedSince: [String: MonotonicInstant] = [:]
    /// A resolution owed to a receiver that has been well this long reached it (a failed delivery's group is sent again
    /// 30 s later, `NotificationPlanner.retryDelay`; then a POST or five).
    public static let deliveryBound: Duration = .seconds(45)

    public init(cluster: String, quiet: Bool, maxSeries: Int) {
        self.cluster = cluster
        self.quiet = quiet
        self.maxSeries = maxSeries
    }

    /// Whether beetlewatch's paths to every replica have been clean (not cut, not lossy) for the last 25 s: what it
    /// knows of each replica's release is then its own word.
    func hearsEveryReplica(_ truth: GroundTruth, now: MonotonicInstant) -> Bool {
        let window = Self.resolveBound + HealthPolicy.statsdInterval
        return truth.replicas.allSatisfy {
            !GroundTruth.within($0.lastCut, window, of: now) && !GroundTruth.within($0.lastLossy, window, of: now)
        }
    }

    /// Whether beetlewatch's paths to a majority of the replicas are clean (not cut, not lossy).
    func clean(_ truth: GroundTruth) -> Bool {
        truth.replicas.filter { !$0.cut && !$0.lossy }.count >= truth.replicas.count / 2 + 1
    }

    /// Checks one step at `now`: the notifications planned since the last step are the pages and their resolutions
    /// (`alerts`, the engine's, give a paged alert's times). Returns what was paged or resolved (for the trace).
    public mutating func check(
        now: MonotonicInstant, truth: GroundTruth, alerts: [Alert], notifications: [NotificationPlanner.Notification],
        receiver: SimulatedReceiver,
        ready: Bool, report: HealthReport, series: Int, forbidden: String?
    ) throws -> [String] {
        func fail(_ name: String, _ detail: String) -> Violation { Violation(name: name, at: now, detail: detail) }
        if let forbidden { throw fail("forbidden-bytes", "the agent wrote \(forbidden) to a replica") }
        if series > maxSeries { throw fail("unbounded-series", "\(series) series held, the limit is \(maxSeries)") }
        var changes: [String] = []
        let nowFiring = alerts.filter { $0.state == .firing }
        let quorumAlert = alerts.first { $0.name == .quorumLost && $0.labels["cluster"] == cluster }
        var newlyPaged: [Alert] = []
        for notification in notifications where !notification.isRepeat {
            for sent in notification.webhook?.alerts ?? [] {
                if sent.status == "resolved", let alert = paged.removeValue(forKey: sent.fingerprint) {
                    notFiringSince[sent.fingerprint] = nil
                    let who = alert.labels["replica"].map { " replica \($0)" } ?? ""
                    changes.append("resolved: \(alert.name.rawValue)\(who)")
                } else if sent.status == "firing", paged[sent.fingerprint] == nil {
                    guard let alert = alerts.first(where: { $0.fingerprint == sent.fingerprint }) else { continue }
                    paged[sent.fingerprint] = alert
                    newlyPaged.append(alert)
                }
            }
        }
        for alert in newlyPaged {
            let who = alert.labels["replica"].map { " replica \($0)" } ?? ""
            changes.append("page: \(alert.name.rawValue)\(who)")
            if quiet { throw fail("page-in-quiet-run", "\(alert.name.rawValue)\(who) fired in a run without a fault") }
            // Judged while beetlewatch could hear every replica's release: one cut off from it, or on a lossy path, is known
            // by the release it last answered with (seed 9201195: cut off from two replicas before an upgrade completed).
            if alert.name == .releaseMismatch, !GroundTruth.within(truth.lastReleasesDiffered, Self.statsdHindsight, of: now),
                hearsEveryReplica(truth, now: now)
            {
                throw fail("false-release-mismatch", "ReleaseMismatch fired; every replica ran one release throughout the last 15 s")
            }
            // Judged while beetlewatch sees a majority on clean paths: cut off from most of the cluster without a refusal,
            // it cannot tell a cluster down from its own network, and pages saying so (docs/alerts.md).
            if alert.name == .quorumLost, !GroundTruth.within(truth.lastNotCommitting, Self.hindsight, of: now), clean(truth) {
                throw fail("false-quorum-lost", "QuorumLost fired; the cluster committed throughout the last 5 s")
            }
            if let replica = alert.labels["replica"].flatMap(Int.init), truth.replicas.indices.contains(replica) {
                let r = truth.replicas[replica]
                // While QuorumLost holds (pending, or firing and not merely kept firing after the cluster committed again).
                if let quorumAlert, quorumAlert.state != .resolved, quorumAlert.keptFiringSince == nil {
                    throw fail(
                        "page-during-quorum-loss",
                        "\(alert.name.rawValue) replica \(replica) paged while QuorumLost was \(quorumAlert.state.rawValue)")
                }
                // Or while the cluster truly has no quorum, lost before this replica's condition began (the agent had
                // all of the alert's hold to see the outage), and beetlewatch sees a majority of it.
                if !truth.commits && truth.commitsSince - .zero <= alert.activeAt - Self.epoch && clean(truth) {
                    throw fail(
                        "page-during-quorum-loss",
                        "\(alert.name.rawValue) replica \(replica) paged; the cluster has not committed since \(FaultPlan.seconds(truth.commitsSince)) s, before the alert's condition began (\(FaultPlan.seconds(alert.activeAt - Self.epoch)) s)"
                    )
                }
                if alert.name == .replicaHung, !GroundTruth.within(r.lastStopped, Self.hindsight, of: now) {
                    throw fail("false-hung", "replica \(replica) paged Hung; its process ran throughout the last 5 s")
                }
                if alert.name == .replicaSyncing, !GroundTruth.within(r.lastSyncing, Self.statsdHindsight, of: now),
                    !(r.toldSyncing.map { $0.syncing && now - $0.at <= Self.judgedFor + Self.hindsight } ?? false)
                {
                    throw fail("false-syncing", "replica \(replica) paged Syncing; it did not sync in the last 15 s")
                }
                if alert.name == .replicaUnreachable,
                    !GroundTruth.within(r.lastCrashed, .seconds(12), of: now) && !GroundTruth.within(r.lastCut, .seconds(12), of: now)
                {
                    throw fail("false-unreachable", "replica \(replica) paged Unreachable; it ran and its path held throughout")
                }
            }
        }
        for alert in nowFiring {
            let held: Bool
            switch alert.name {
            case .quorumLost:
                // Judged only while beetlewatch has seen a majority on clean paths all along: cut off from most of the
                // cluster, it cannot see it recover (it says so).
                let seen = truth.replicas.filter {
                    !GroundTruth.within($0.lastCut, Self.resolveBound, of: now)
                        && !GroundTruth.within($0.lastLossy, Self.resolveBound, of: now)
                }.count
                held = !truth.commits || now - truth.commitsSince < Self.resolveBound || seen < truth.replicas.count / 2 + 1
            case .replicaHung:
                let r = alert.labels["replica"].flatMap(Int.init).flatMap { truth.replicas.indices.contains($0) ? truth.replicas[$0] : nil }
                held = r.map { GroundTruth.within($0.lastStopped, Self.resolveBound, of: now) } ?? true
            case .replicaSyncing:
                let r = alert.labels["replica"].flatMap(Int.init).flatMap { truth.replicas.indices.contains($0) ? truth.replicas[$0] : nil }
                // Until the agent is told the sync ended: StatsD is lossy, and a gauge's last word holds until the next
                // (seed 9101074: three lines in a row lost, the agent still told "syncing" 30 s after the sync ended).
                held =
                    r.map { r in
                        GroundTruth.within(r.lastSyncing, Self.resolveBound + HealthPolicy.statsdInterval, of: now)
                            || r.toldSyncing.map { $0.syncing || now - $0.at <= Self.resolveBound } ?? false
                    } ?? true
            case .releaseMismatch:
                held =
                    GroundTruth.within(truth.lastReleasesDiffered, Self.resolveBound + HealthPolicy.statsdInterval, of: now)
                    || !hearsEveryReplica(truth, now: now)
            default: held = true
            }
            if !held {
                throw fail("unresolved", "\(alert.name.rawValue) \(alert.labels["replica"] ?? "") still firing 15 s after it ended")
            }
        }
        // A page is resolved once its alert is: when the engine no longer holds it firing, a resolution is sent.
        for (fingerprint, alert) in paged.sorted(by: { $0.key < $1.key }) {
            if nowFiring.contains(where: { $0.fingerprint == fingerprint }) {
                notFiringSince[fingerprint] = nil
            } else if let since = notFiringSince[fingerprint] {
                if now - since > Self.resolveBound {
                    throw fail(
                        "unresolved", "\(alert.name.rawValue) \(alert.labels["replica"] ?? "") was paged, ended, and no resolution was sent"
                    )
                }
            } else {
                notFiringSince[fingerprint] = now
            }
        }

        // /ready stays open while the cluster commits and the agent can reach a replica that takes part.
        // (One that has run, on a clean path (not cut, not lossy: a request through a lossy path may miss the canary's
        // timeout), for the last 5 s: the agent needs a moment to find a replica back.)
        let reachable = truth.replicas.contains {
            !$0.cut && $0.process == .running && now - $0.processSince >= Self.hindsight && !$0.isolated
                && !GroundTruth.within($0.lastCut, Self.hindsight, of: now) && !GroundTruth.within($0.lastIsolated, Self.hindsight, of: now)
                && !GroundTruth.within($0.lastLossy, Self.hindsight, of: now)
        }
        if !ready && now >= .zero + Self.coldStart && truth.commits && now - truth.commitsSince >= Self.hindsight && reachable {
            throw fail(
                "ready-closed-while-committing",
                "/ready closed; the cluster has committed for \(FaultPlan.seconds(now - truth.commitsSince)) s (beetlewatch: \(report.cluster(cluster).map { verdict in ([verdict.summary] + verdict.replicas.filter { !$0.healthy }.map { "replica \($0.replica): \($0.reasons.map(\.detail).joined(separator: "; "))" }).joined(separator: "; ") } ?? "no verdict"))"
            )
        }

        // Detection bounds, for what the agent can see: on a path that has been clean (not cut, not lossy) for 5 s, a
        // fault is found within its bound of its start, or of the path's healing if it began behind a faulty path (seed
        // 9301968: stopped behind a lossy path 6 s before it healed, the agent had 5.1 s of a clean path, not 11 s).
        if let verdicts = report.cluster(cluster)?.replicas {
            for (i, r) in truth.replicas.enumerated()
            where i < verdicts.count && !GroundTruth.within(r.lastCut, Self.hindsight, of: now)
                && !GroundTruth.within(r.lastLossy, Self.hindsight, of: now)
            {
                let since = [r.processSince, r.lastCut, r.lastLossy].compactMap { $0 }.max() ?? r.processSince
                if r.process == .crashed && now - since >= Self.crashBound && verdicts[i].state != .unreachable {
                    throw fail(
                        "late-crash", "replica \(i) crashed \(FaultPlan.seconds(now - r.processSince)) s ago and is \(verdicts[i].state)")
                }
                let faultyPathLately =
                    GroundTruth.within(r.lastCut, Self.faultyPathMemory, of: now)
                    || GroundTruth.within(r.lastLossy, Self.faultyPathMemory, of: now)
                // A stop behind a faulty path: the pings in flight when it healed left on it, so the agent's first clean
                // evidence is the next ping's, up to a probe interval later (seed 19343578: stopped 1.2 s before its
                // lossy path healed, hung 6.6 s after the healing).
                let behindThePath = since > r.processSince ? Self.probeInterval : .zero
                let hangBound = (faultyPathLately ? Self.hangBoundAfterAFaultyPath : Self.hangBound) + behindThePath
                if r.process == .stopped && now - since >= hangBound && verdicts[i].state != .hung
                    && !GroundTruth.within(r.lastCrashed, Self.hindsight, of: now)
                {
                    throw fail(
                        "late-hang",
                        "replica \(i) stopped \(FaultPlan.seconds(now - r.processSince)) s ago and is \(verdicts[i].state) (\(verdicts[i].reasons.map(\.detail).joined(separator: "; ")))"
                    )
                }
            }
        }
        // What the receiver heard, through the channel and its faults: every firing it heard is resolved once the alert
        // ended and the receiver has been well for the bound; a resolution it acknowledged is not sent again.
        if let (fingerprint, heard) = receiver.duplicates.first {
            throw fail(
                "resolution-twice",
                "\(heard.name) \(heard.replica ?? "") (\(fingerprint), since \(heard.startsAt)): a resolution the receiver acknowledged was sent again"
            )
        }
        for (fingerprint, heard) in receiver.heard.sorted(by: { $0.key < $1.key }) {
            guard heard.firing, !nowFiring.contains(where: { $0.fingerprint == fingerprint }) else {
                owedSince[fingerprint] = nil
                continue
            }
            let since = owedSince[fingerprint] ?? now
            owedSince[fingerprint] = since
            if let well = receiver.healthySince, now - max(since, well) > Self.deliveryBound {
                throw fail(
                    "resolution-not-delivered",
                    "\(heard.name) \(heard.replica ?? "") ended \(FaultPlan.seconds(now - since)) s ago; the receiver, well for \(FaultPlan.seconds(now - well)) s, still has it firing"
                )
            }
        }
        // With a majority down (crashed or stopped) the replicas' own evidence tells within the bound; with the replicas
        // up but unable to reach each other, only the canary tells, once a view change would have ended.
        // (Counted from when a majority went down, or when the cluster stopped committing if later: a primary's crash
        // is a view change until a second replica goes.)
        // (A replica stopped on a path faulty in the last minute is hung a probe interval later, and so is the quorum's
        // loss the replicas' evidence shows: seed 2001107.)
        let faultyPathLately = truth.replicas.contains {
            GroundTruth.within($0.lastCut, Self.faultyPathMemory, of: now)
                || GroundTruth.within($0.lastLossy, Self.faultyPathMemory, of: now)
        }
        let majorityDownBound = Self.quorumLossBound + (faultyPathLately ? Self.hangBoundAfterAFaultyPath - Self.hangBound : .zero)
        let (since, bound) =
            truth.majorityDownSince.map { (max($0, truth.commitsSince), majorityDownBound) } ?? (truth.commitsSince, Self.partitionBound)
        if !truth.commits && now - since >= bound && clean(truth) && quorumAlert?.state != .firing {
            throw fail(
                "late-quorum-lost",
                "the cluster has not committed for \(FaultPlan.seconds(now - truth.commitsSince)) s; QuorumLost not firing")
        }
        return changes
    }
}
