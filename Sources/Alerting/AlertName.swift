/// The built-in rules. The raw value is the `alertname` label, the same in
/// `prometheus/alerts.yml`.
public enum AlertName: String, Sendable, CaseIterable, Codable {
    case replicaStatusAbnormal = "TigerBeetleReplicaStatusAbnormal"
    case replicaSyncing = "TigerBeetleReplicaSyncing"
    case replicaUnreachable = "TigerBeetleReplicaUnreachable"
    case replicaHung = "TigerBeetleReplicaHung"
    case replicaSilent = "TigerBeetleReplicaSilent"
    case replicaIsolated = "TigerBeetleReplicaIsolated"
    case replicaBehind = "TigerBeetleReplicaBehind"
    case quorumLost = "TigerBeetleQuorumLost"
    case viewChanged = "TigerBeetleViewChanged"
    case storageFaults = "TigerBeetleStorageFaults"
    case clockSkew = "TigerBeetleClockSkew"
    case releaseMismatch = "TigerBeetleReleaseMismatch"

    /// Whether the rule's verdict comes from beetlewatch's probe (which answers every probe interval), so a
    /// flag cleared within one probe must not page: `AlertEngine.minimumFor` applies to these only (StatsD
    /// values change every 10 s and page at once).
    public var judgedOnProbes: Bool {
        switch self {
        case .replicaUnreachable, .replicaHung, .quorumLost: true
        default: false
        }
    }

    /// Its section in `docs/alerts.md`.
    public var runbookAnchor: String { rawValue.lowercased() }
}

public enum Severity: String, Sendable, CaseIterable, Codable {
    case critical, warning, info
}

/// What the config can change of a rule.
public struct RuleSettings: Sendable, Equatable {
    public var enabled = true
    /// How long the condition must hold before the alert fires (ns).
    public var forDuration: Int64
    public var severity: Severity
    /// `TigerBeetleClockSkew`: the largest tolerated |clock delta|, seconds.
    public var threshold: Double?
    /// `TigerBeetleViewChanged`: how long the alert stays firing after a view change (ns).
    public var window: Int64?

    public init(enabled: Bool = true, forDuration: Int64, severity: Severity, threshold: Double? = nil, window: Int64? = nil) {
        self.enabled = enabled
        self.forDuration = forDuration
        self.severity = severity
        self.threshold = threshold
        self.window = window
    }
}

/// Every rule's settings.
public struct AlertRules: Sendable, Equatable {
    public var settings: [AlertName: RuleSettings]

    public init(settings: [AlertName: RuleSettings] = AlertRules.defaults) {
        self.settings = settings
    }

    public subscript(name: AlertName) -> RuleSettings { settings[name] ?? Self.defaults[name]! }

    static let second: Int64 = 1_000_000_000

    /// The defaults, the same as `prometheus/alerts.yml`.
    public static let defaults: [AlertName: RuleSettings] = [
        .replicaStatusAbnormal: RuleSettings(forDuration: 0, severity: .critical),
        .replicaSyncing: RuleSettings(forDuration: 0, severity: .warning),
        .replicaUnreachable: RuleSettings(forDuration: 10 * second, severity: .critical),
        .replicaHung: RuleSettings(forDuration: 0, severity: .critical),
        .replicaSilent: RuleSettings(forDuration: 0, severity: .warning),
        .replicaIsolated: RuleSettings(forDuration: 0, severity: .critical),
        .replicaBehind: RuleSettings(forDuration: 0, severity: .warning),
        .quorumLost: RuleSettings(forDuration: 0, severity: .critical),
        .viewChanged: RuleSettings(forDuration: 0, severity: .warning, window: 60 * second),
        .storageFaults: RuleSettings(forDuration: 60 * second, severity: .warning),
        .clockSkew: RuleSettings(forDuration: 60 * second, severity: .warning, threshold: 0.5),
        .releaseMismatch: RuleSettings(forDuration: 0, severity: .info),
    ]
}
