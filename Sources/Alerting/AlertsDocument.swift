/// `/api/v1/alerts`: the pending and firing alerts.
public struct AlertsDocument: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var alertname: String
        public var state: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var activeAt: String
        public var firedAt: String?
        public var fingerprint: String
    }

    public var alerts: [Entry]

    public init(_ alerts: [Alert]) {
        self.alerts = alerts.map {
            Entry(
                alertname: $0.name.rawValue, state: $0.state.rawValue, labels: $0.labels, annotations: $0.annotations,
                activeAt: Timestamp.rfc3339($0.activeAt), firedAt: $0.firedAt.map(Timestamp.rfc3339),
                fingerprint: $0.fingerprint)
        }
    }

    /// Lines for a terminal.
    public var text: String {
        if alerts.isEmpty { return "ALERTS: none\n" }
        return "ALERTS\n"
            + alerts.map { alert in
                let subject = ["cluster", "replica"].compactMap { key in alert.labels[key].map { "\(key)=\($0)" } }.joined(separator: " ")
                return
                    "  \(alert.state.uppercased())  \(alert.alertname) \(subject) [\(alert.labels["severity"] ?? "")] since \(alert.activeAt): \(alert.annotations["summary"] ?? "")\n"
            }.joined()
    }
}
