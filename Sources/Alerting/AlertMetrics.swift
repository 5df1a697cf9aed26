import Exposition
import MetricStore

/// What a notification channel (a webhook receiver or an Alertmanager) has done.
public struct NotificationStats: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        /// Delivered (2xx).
        case success
        /// Given up after the retries (connection errors, 5xx).
        case failed
        /// Refused with a 4xx: logged, not retried.
        case rejected
        /// Dropped from a full queue.
        case dropped
    }

    public var receiver: String
    public var outcomes: [Outcome: UInt64] = [:]
    public var queueLength = 0

    public init(receiver: String) {
        self.receiver = receiver
    }
}

/// The alerting families of `/metrics`.
public enum AlertMetrics {
    /// - Parameter alertmanagers: how many Alertmanagers beetlewatch pushes to (`--alertmanager.url`).
    public static func families(active: [Alert], notifications: [NotificationStats], alertmanagers: Int = 0) -> [StaticFamily] {
        var counts: [(labels: LabelSet, value: Double)] = []
        for name in AlertName.allCases {
            for state in [Alert.State.pending, .firing] {
                let n = active.filter { $0.name == name && $0.state == state }.count
                counts.append((LabelSet([("alertname", name.rawValue), ("state", state.rawValue)]), Double(n)))
            }
        }
        let each = active.map { alert in
            (labels: LabelSet(alert.labels.map { ($0.key, $0.value) } + [("alertstate", alert.state.rawValue)]), value: 1.0)
        }
        var outcomes: [(labels: LabelSet, value: Double)] = []
        var queues: [(labels: LabelSet, value: Double)] = []
        for stats in notifications {
            for outcome in NotificationStats.Outcome.allCases {
                outcomes.append(
                    (LabelSet([("receiver", stats.receiver), ("outcome", outcome.rawValue)]), Double(stats.outcomes[outcome] ?? 0)))
            }
            queues.append((LabelSet([("receiver", stats.receiver)]), Double(stats.queueLength)))
        }
        return [
            StaticFamily(
                name: "beetlewatch_alerts", help: "Alerts of the built-in rules, by name and state.", type: .gauge, samples: counts),
            StaticFamily(
                name: "beetlewatch_alert_active", help: "One series per pending or firing alert, with its labels.", type: .gauge,
                samples: each),
            StaticFamily(
                name: "beetlewatch_notifications_total", help: "Notifications by receiver and outcome.", type: .counter, samples: outcomes),
            StaticFamily(
                name: "beetlewatch_notification_queue_length", help: "Notifications waiting to be sent, by receiver.", type: .gauge,
                samples: queues),
            StaticFamily(
                name: "beetlewatch_alertmanagers",
                help:
                    "Alertmanagers beetlewatch pushes its alerts to; while above 0, prometheus/alerts.yml's copies of the TigerBeetle rules stand down.",
                type: .gauge, value: Double(alertmanagers)),
        ]
    }

    /// Names the store must not create.
    public static var reservedNames: Set<String> {
        Set(families(active: [], notifications: []).flatMap(\.sampleNames))
    }
}
