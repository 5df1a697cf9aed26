import Health
import TigerBeetle

/// Evaluates the built-in rules: (state + health report + now) → new state and transitions.
/// Pure; the agent calls it on every change of the health model, when `nextTransitionAt` comes, and at least every
/// second.
public struct AlertEngine: Sendable {
    public var rules: AlertRules
    /// Where `docs/alerts.md` is published; each alert links `<runbookURL>#<alertname>`.
    public var runbookURL: String
    /// Whether clusters heard from but not configured raise alerts (`--alert.unwatched-clusters`).
    public var alertsOnUnwatchedClusters: Bool
    /// QuorumLost does not fire before its condition has held this long, nor a replica's alert before twice
    /// as long (`AlertName.probeIntervalsHeld`), whatever its rule's `for`: the agent sets one probe interval. While
    /// a cluster's QuorumLost is pending, its replicas' alerts wait for it: one incident, one page.
    public var minimumFor: Duration = .zero
    /// How long the canary may take to decide (its interval and timeout): while a cluster's replicas show quorum lost
    /// and its canary still commits, its replicas' alerts wait this long at most for the canary to fail (then QuorumLost
    /// comes first) or go on committing (then the replicas' evidence was beetlewatch's view, and they page on their own).
    /// While its canary fails and its replicas do not (yet) show quorum lost, a cluster's replicas' alerts wait
    /// `quorumDecisionWait` and a second more: the health model calls that a lost quorum once it has lasted longer than a
    /// view change (`HealthPolicy.canaryFailingIsQuorumLostAfter`, half a second more than the decision wait), and then
    /// QuorumLost comes first (the simulator, seed 178: the lone primary's Isolated paged before QuorumLost).
    public var quorumDecisionWait: Duration = .zero
    /// Since when each cluster's verdict has been undecided (its replicas and its canary disagree), how long its
    /// replicas' alerts wait for the decision, and whether it is the canary failing that waits (counted from when it
    /// began failing: the simulator, seed 800573, where the replicas' word came first, the canary failed 0.7 s later, and
    /// a replica's Isolated paged 0.2 s before the canary's QuorumLost could).
    private var undecidedSince: [String: (since: WallInstant, wait: Duration, canaryFailing: Bool)] = [:]
    /// Pending and firing alerts, by fingerprint.
    public private(set) var alerts: [String: Alert] = [:]
    private var viewChangesSeen: [String: UInt64] = [:]
    private var viewChangedAt: [String: WallInstant] = [:]

    public init(
        rules: AlertRules = AlertRules(), runbookURL: String = AlertEngine.defaultRunbookURL,
        alertsOnUnwatchedClusters: Bool = true
    ) {
        self.rules = rules
        self.runbookURL = runbookURL
        self.alertsOnUnwatchedClusters = alertsOnUnwatchedClusters
    }

    public static let defaultRunbookURL = "https://github.com/beetlewatch/beetlewatch/blob/main/docs/alerts.md"

    /// Pending and firing alerts, as a person reads them: by name, cluster, replica (as a number), then fingerprint.
    public var active: [Alert] {
        // Each alert's key worked out once, and indices sorted, not alerts (a fleet's 2,400 firing alerts sorted with the
        // key built in the comparator, each move copying an alert, took a quarter of the agent's time).
        let values = Array(alerts.values)
        let keys = values.map { alert in
            (alert.name.rawValue, alert.labels["cluster"] ?? "", alert.labels["replica"].flatMap { Int($0) } ?? -1, alert.fingerprint)
        }
        return keys.indices.sorted { keys[$0] < keys[$1] }.map { values[$0] }
    }

    /// Applies one evaluation; returns the alerts that fired or resolved in it (in their new state).
    public mutating func evaluate(_ report: HealthReport, now: WallInstant) -> [Alert] {
        let clusters = report.clusters.filter { $0.watched || alertsOnUnwatchedClusters }
        // Only clusters in the report are remembered: one that is gone (an unwatched cluster
        // expired) leaves nothing behind.
        var seenNow: [String: UInt64] = [:]
        var changedAt: [String: WallInstant] = [:]
        for cluster in clusters {
            let seen = viewChangesSeen[cluster.id]
            changedAt[cluster.id] = cluster.viewChanges > (seen ?? 0) ? now : viewChangedAt[cluster.id]
            seenNow[cluster.id] = cluster.viewChanges
        }
        viewChangesSeen = seenNow
        viewChangedAt = changedAt
        var transitions: [Alert] = []
        var holding = Set<String>()
        var report = report
        report.clusters = clusters
        let conditions = BuiltInRules.conditions(report, rules: rules, viewChangedAt: viewChangedAt, now: now)
        // Clusters whose quorum verdict is still pending: QuorumLost holds but has not fired (it may fire in this very
        // evaluation; it is applied first). Their replicas' alerts wait: the cluster's page comes first, or none.
        var quorumPending = Set<String>()
        var undecided: [String: (since: WallInstant, wait: Duration, canaryFailing: Bool)] = [:]
        for cluster in clusters {
            let wait: Duration
            let canaryFailing: Bool
            if cluster.replicasShowQuorumLost && cluster.committing == true {
                (wait, canaryFailing) = (quorumDecisionWait, false)
            } else if cluster.committing == false && !cluster.quorumLost && quorumDecisionWait > .zero {
                (wait, canaryFailing) = (quorumDecisionWait + .seconds(1), true)
            } else {
                continue
            }
            let earlier = undecidedSince[cluster.id]
            let since = earlier.map { $0.canaryFailing == canaryFailing ? $0.since : now } ?? now
            undecided[cluster.id] = (since, wait, canaryFailing)
            if now - since < wait { quorumPending.insert(cluster.id) }
        }
        undecidedSince = undecided
        // A cluster whose canary has failed, its replicas' evidence agreeing: two signals, the canary's timeout a hold of
        // its own. QuorumLost does not wait a probe interval more (live: paged 2.5–2.8 s after two replicas were killed,
        // the canary having failed at 1.4–1.8 s).
        let notCommitting = Set(clusters.filter { $0.committing == false }.map(\.id))
        func hold(_ condition: AlertCondition) -> Duration {
            condition.name == .quorumLost && notCommitting.contains(condition.labels["cluster"] ?? "")
                ? rules[.quorumLost].forDuration : forDuration(of: condition.name)
        }
        for condition in conditions where condition.name == .quorumLost {
            let fingerprint = Fingerprint.of(labels(of: condition))
            let hold = hold(condition)
            let pending = alerts[fingerprint].map { $0.state == .pending && now - $0.activeAt < hold } ?? true
            if pending && hold > .zero, let cluster = condition.labels["cluster"] { quorumPending.insert(cluster) }
        }
        for condition in conditions {
            let forDuration = hold(condition)
            let labels = labels(of: condition)
            let waitsForQuorum = condition.name.isHeldBackByQuorumLost && quorumPending.contains(condition.labels["cluster"] ?? "")
            let annotations = [
                "summary": condition.summary,
                "description": condition.description,
                "runbook_url": "\(runbookURL)#\(condition.name.runbookAnchor)",
            ]
            let fingerprint = Fingerprint.of(labels)
            holding.insert(fingerprint)
            if var alert = alerts[fingerprint] {
                alert.annotations = annotations
                alert.keptFiringSince = nil
                if alert.state == .pending && now - alert.activeAt >= forDuration && !waitsForQuorum {
                    alert.state = .firing
                    alert.firedAt = now
                    transitions.append(alert)
                }
                alerts[fingerprint] = alert
            } else {
                let fires = forDuration <= .zero && !waitsForQuorum
                let alert = Alert(
                    name: condition.name, labels: labels, annotations: annotations,
                    state: fires ? .firing : .pending, activeAt: now, firedAt: fires ? now : nil)
                alerts[fingerprint] = alert
                if fires { transitions.append(alert) }
            }
        }
        for (fingerprint, var alert) in alerts where !holding.contains(fingerprint) {
            let keep = rules[alert.name].keepFiringFor
            if alert.state == .firing, keep > .zero {
                let since = alert.keptFiringSince ?? now
                if now - since < keep {
                    alert.keptFiringSince = since
                    alerts[fingerprint] = alert
                    continue
                }
            }
            alerts[fingerprint] = nil
            if alert.state == .firing {
                alert.state = .resolved
                alert.resolvedAt = now
                transitions.append(alert)
            }
        }
        return transitions
    }

    /// An alert's labels: the condition's, its name and its rule's severity.
    func labels(of condition: AlertCondition) -> [String: String] {
        var labels = condition.labels
        labels["alertname"] = condition.name.rawValue
        labels["severity"] = rules[condition.name].severity.rawValue
        return labels
    }

    /// How long `name`'s condition holds before it fires: its rule's `for`, and at least its probe-interval hold. A
    /// replica's alert also holds as long as the canary may take to decide (`quorumDecisionWait`): a cluster that stops
    /// committing with its replicas' evidence short of a lost quorum (a partition that leaves each replica a peer) is
    /// told by the canary alone, and its QuorumLost must come first. (Two probe intervals were as long as the canary's
    /// interval and timeout at 1 s each; at 500 ms a partition's Isolated paged 1 s before the canary failed: the
    /// simulator, seed 26000153.)
    func forDuration(of name: AlertName) -> Duration {
        let hold = minimumFor * name.probeIntervalsHeld
        return max(rules[name].forDuration, name.isHeldBackByQuorumLost ? max(hold, quorumDecisionWait) : hold)
    }

    /// When the next evaluation would change an alert with the report unchanged (on the clock of `now`): a pending alert's
    /// `for` running out, or a kept-firing alert's `keep_firing_for`. nil when nothing is due. The agent evaluates
    /// then rather than on its next once-a-second tick, which made QuorumLost fire up to a second after its hold.
    /// A replica's alert waiting for its cluster's pending QuorumLost is due no earlier than that is.
    public var nextTransitionAt: WallInstant? {
        var quorumDue: [String: WallInstant] = [:]
        for alert in alerts.values where alert.name == .quorumLost && alert.state == .pending {
            quorumDue[alert.labels["cluster"] ?? ""] = alert.activeAt + forDuration(of: .quorumLost)
        }
        for (cluster, undecided) in undecidedSince {
            let decided = undecided.since + undecided.wait
            quorumDue[cluster] = quorumDue[cluster].map { max($0, decided) } ?? decided
        }
        return alerts.values.compactMap { alert -> WallInstant? in
            switch alert.state {
            case .pending:
                let due = alert.activeAt + forDuration(of: alert.name)
                guard alert.name.isHeldBackByQuorumLost, let quorum = quorumDue[alert.labels["cluster"] ?? ""] else { return due }
                return max(due, quorum)
            case .firing:
                return alert.keptFiringSince.map { $0 + rules[alert.name].keepFiringFor }
            case .resolved:
                return nil
            }
        }.min()
    }
}
