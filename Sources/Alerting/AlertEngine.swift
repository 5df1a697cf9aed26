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
    /// No alert judged on the probe (`AlertName.judgedOnProbes`) fires before its condition has held this long
    /// (ns), twice as long for a replica's (`AlertName.probeIntervalsHeld`), whatever its rule's `for`: the agent
    /// sets one probe interval, so a replica flagged and cleared within one probe does not page.
    public var minimumFor: Int64 = 0
    /// Pending and firing alerts, by fingerprint.
    public private(set) var alerts: [String: Alert] = [:]
    private var viewChangesSeen: [String: UInt64] = [:]
    private var viewChangedAt: [String: Int64] = [:]

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
        func key(_ alert: Alert) -> (String, String, Int, String) {
            (alert.name.rawValue, alert.labels["cluster"] ?? "", alert.labels["replica"].flatMap { Int($0) } ?? -1, alert.fingerprint)
        }
        return alerts.values.sorted { key($0) < key($1) }
    }

    /// Applies one evaluation; returns the alerts that fired or resolved in it (in their new state).
    public mutating func evaluate(_ report: HealthReport, now: Int64) -> [Alert] {
        let clusters = report.clusters.filter { $0.watched || alertsOnUnwatchedClusters }
        // Only clusters in the report are remembered: one that is gone (an unwatched cluster
        // expired) leaves nothing behind.
        var seenNow: [String: UInt64] = [:]
        var changedAt: [String: Int64] = [:]
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
        for condition in BuiltInRules.conditions(report, rules: rules, viewChangedAt: viewChangedAt, now: now) {
            let settings = rules[condition.name]
            let forDuration = forDuration(of: condition.name)
            var labels = condition.labels
            labels["alertname"] = condition.name.rawValue
            labels["severity"] = settings.severity.rawValue
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
                if alert.state == .pending && now - alert.activeAt >= forDuration {
                    alert.state = .firing
                    alert.firedAt = now
                    transitions.append(alert)
                }
                alerts[fingerprint] = alert
            } else {
                let fires = forDuration <= 0
                let alert = Alert(
                    name: condition.name, labels: labels, annotations: annotations,
                    state: fires ? .firing : .pending, activeAt: now, firedAt: fires ? now : nil)
                alerts[fingerprint] = alert
                if fires { transitions.append(alert) }
            }
        }
        for (fingerprint, var alert) in alerts where !holding.contains(fingerprint) {
            let keep = rules[alert.name].keepFiringFor
            if alert.state == .firing, keep > 0 {
                let since = alert.keptFiringSince ?? now
                if now.subtractingReportingOverflow(since).partialValue < keep {
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

    /// How long `name`'s condition holds before it fires (ns): its rule's `for`, and at least its probe-interval hold.
    func forDuration(of name: AlertName) -> Int64 {
        max(rules[name].forDuration, minimumFor.multipliedReportingOverflow(by: name.probeIntervalsHeld).partialValue)
    }

    /// When the next evaluation would change an alert with the report unchanged (ns, as `now`): a pending alert's
    /// `for` running out, or a kept-firing alert's `keep_firing_for`. nil when nothing is due. The agent evaluates
    /// then rather than on its next once-a-second tick, which made QuorumLost fire up to a second after its hold.
    public var nextTransitionAt: Int64? {
        alerts.values.compactMap { alert -> Int64? in
            switch alert.state {
            case .pending:
                return alert.activeAt.addingSaturating(forDuration(of: alert.name))
            case .firing:
                return alert.keptFiringSince.map { $0.addingSaturating(rules[alert.name].keepFiringFor) }
            case .resolved:
                return nil
            }
        }.min()
    }
}
