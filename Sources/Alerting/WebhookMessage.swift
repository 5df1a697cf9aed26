/// Alertmanager's webhook payload, version 4 (notify/webhook/webhook.go), so every
/// existing Alertmanager webhook consumer works unchanged.
public struct WebhookMessage: Sendable, Equatable, Codable {
    public struct Alert: Sendable, Equatable, Codable {
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String
        public var fingerprint: String
    }

    public var version = "4"
    public var groupKey: String
    public var truncatedAlerts = 0
    public var status: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var commonLabels: [String: String]
    public var commonAnnotations: [String: String]
    public var externalURL: String
    public var alerts: [Alert]
}

/// Groups alerts as an Alertmanager route grouped `by: [alertname, cluster]` would.
public enum WebhookGrouping {
    public static let groupBy = ["alertname", "cluster"]

    public static func groupLabels(of alert: Alerting.Alert) -> [String: String] {
        alert.labels.filter { groupBy.contains($0.key) }
    }

    /// `{}:{alertname="X", cluster="Y"}`, as Alertmanager writes group keys.
    public static func groupKey(_ labels: [String: String]) -> String {
        "{}:{" + labels.keys.sorted().map { "\($0)=\"\(labels[$0]!)\"" }.joined(separator: ", ") + "}"
    }

    /// The message for one group: its firing alerts, and (with `sendResolved`) the resolved ones
    /// given; nil when there is nothing to say.
    public static func message(
        receiver: String, group: [String: String], firing: [Alerting.Alert], resolved: [Alerting.Alert],
        sendResolved: Bool, externalURL: String
    ) -> WebhookMessage? {
        let included = firing + (sendResolved ? resolved : [])
        guard !included.isEmpty else { return nil }
        func common(_ maps: [[String: String]]) -> [String: String] {
            guard let first = maps.first else { return [:] }
            return first.filter { key, value in maps.allSatisfy { $0[key] == value } }
        }
        return WebhookMessage(
            groupKey: groupKey(group),
            status: firing.isEmpty ? "resolved" : "firing",
            receiver: receiver,
            groupLabels: group,
            commonLabels: common(included.map(\.labels)),
            commonAnnotations: common(included.map(\.annotations)),
            externalURL: externalURL,
            alerts: included.map { alert in
                WebhookMessage.Alert(
                    status: alert.state == .resolved ? "resolved" : "firing",
                    labels: alert.labels, annotations: alert.annotations,
                    startsAt: Timestamp.rfc3339(alert.activeAt),
                    endsAt: alert.resolvedAt.map(Timestamp.rfc3339) ?? Timestamp.zero,
                    generatorURL: externalURL + "/api/v1/alerts",
                    fingerprint: alert.fingerprint)
            }
        )
    }
}
