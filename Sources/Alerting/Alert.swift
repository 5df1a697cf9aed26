import TigerBeetle

/// An alert and where it is in its life: pending → firing → resolved. The documents and payloads carry it as their
/// own types (`AlertsDocument`, `WebhookMessage`, `AlertmanagerAlert`), times in RFC 3339.
public struct Alert: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case pending, firing, resolved
    }

    public var name: AlertName
    /// Sorted by name; always `alertname` and `severity`, then `cluster`, `replica`, ...
    public var labels: [String: String]
    public var annotations: [String: String]
    public var state: State
    /// When the condition began to hold.
    public var activeAt: WallInstant
    /// When it fired, if it did.
    public var firedAt: WallInstant?
    /// When it resolved, if it did.
    public var resolvedAt: WallInstant?
    /// Since when it has been firing only because of its rule's `keep_firing_for`: the condition stopped then.
    public var keptFiringSince: WallInstant?
    /// Alertmanager's fingerprint of the labels, 16 hex digits.
    public var fingerprint: String

    public init(
        name: AlertName, labels: [String: String], annotations: [String: String], state: State,
        activeAt: WallInstant, firedAt: WallInstant? = nil, resolvedAt: WallInstant? = nil
    ) {
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.state = state
        self.activeAt = activeAt
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
        self.fingerprint = Fingerprint.of(labels)
    }
}

/// Alertmanager's label fingerprint (prometheus/common model.LabelSet.Fingerprint):
/// FNV-1a 64 over the sorted names and values, each followed by 0xFF.
public enum Fingerprint {
    public static func of(_ labels: [String: String]) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        func add(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 1_099_511_628_211
            }
            hash ^= 0xFF
            hash = hash &* 1_099_511_628_211
        }
        for name in labels.keys.sorted() {
            add(name)
            add(labels[name]!)
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
