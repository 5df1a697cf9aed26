import TigerBeetle

/// One element of `POST /api/v2/alerts` (Alertmanager's postableAlert).
public struct AlertmanagerAlert: Sendable, Equatable, Codable {
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: String
    public var endsAt: String
    public var generatorURL: String

    /// As Prometheus sends them: firing alerts end `now + lifetime` (so Alertmanager keeps
    /// them while re-sent), resolved ones at their resolution time.
    public init(_ alert: Alert, now: WallInstant, lifetime: Duration, externalURL: String) {
        labels = alert.labels
        annotations = alert.annotations
        startsAt = Timestamp.rfc3339(alert.activeAt)
        endsAt = Timestamp.rfc3339(alert.resolvedAt ?? (now + lifetime))
        generatorURL = externalURL + "/api/v1/alerts"
    }
}
