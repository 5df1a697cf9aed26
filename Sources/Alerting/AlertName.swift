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
    case replicaUnobserved = "TigerBeetleReplicaUnobserved"
    case quorumLost = "TigerBeetleQuorumLost"
    case viewChanged = "TigerBeetleViewChanged"
    case storageFaults = "TigerBeetleStorageFaults"
    case clockSkew = "TigerBeetleClockSkew"
    case releaseMismatch = "TigerBeetleReleaseMismatch"

    /// How many probe intervals (`AlertEngine.minimumFor`) its condition must hold at least: one for QuorumLost (a
    /// replica flagged and cleared within one probe does not page), two for every replica's alert, whatever signal
    /// judged it. Replicas that fail together are flagged up to a probe interval apart, and a StatsD datagram can
    /// flag a survivor (isolated: its peers are gone) a moment after they die: the QuorumLost that holds the
    /// replicas' alerts back fires first, and one incident pages once. The other cluster alerts are not held.
    var probeIntervalsHeld: Int {
        if self == .quorumLost { return 1 }
        return isHeldBackByQuorumLost ? 2 : 0
    }

    /// A replica's alert: held back while its cluster's QuorumLost fires (they add nothing to it), by
    /// beetlewatch's webhooks as by alertmanager/alertmanager.yml's inhibit rule (`TigerBeetleReplica.+`).
    public var isHeldBackByQuorumLost: Bool { rawValue.hasPrefix("TigerBeetleReplica") }

    /// Its section in `docs/alerts.md`.
    public var runbookAnchor: String { rawValue.lowercased() }
}

public enum Severity: String, Sendable, CaseIterable, Codable {
    case critical, warning, info
}

/// What the config can change of a rule.
public struct RuleSettings: Sendable, Equatable {
    public var enabled = true
    /// How long the condition must hold before the alert fires.
    public var forDuration: Duration
    public var severity: Severity
    /// `TigerBeetleClockSkew`: the largest tolerated |clock delta|, seconds.
    public var threshold: Double?
    /// `TigerBeetleViewChanged`: how long the alert stays firing after a view change.
    public var window: Duration?
    /// How long a firing alert stays firing after its condition stops holding, as Prometheus's
    /// `keep_firing_for`: an alert others are inhibited by outlives them.
    public var keepFiringFor: Duration

    public init(
        enabled: Bool = true, forDuration: Duration, severity: Severity, threshold: Double? = nil, window: Duration? = nil,
        keepFiringFor: Duration = .zero
    ) {
        self.enabled = enabled
        self.forDuration = forDuration
        self.severity = severity
        self.threshold = threshold
        self.window = window
        self.keepFiringFor = keepFiringFor
    }
}

/// Every rule's settings.
public struct AlertRules: Sendable, Equatable {
    public var settings: [AlertName: RuleSettings]

    public init(settings: [AlertName: RuleSettings] = AlertRules.defaults) {
        self.settings = settings
    }

    public subscript(name: AlertName) -> RuleSettings { settings[name] ?? Self.defaults[name]! }

    /// The defaults, the same as `prometheus/alerts.yml`.
    public static let defaults: [AlertName: RuleSettings] = [
        .replicaStatusAbnormal: RuleSettings(forDuration: .zero, severity: .critical),
        .replicaSyncing: RuleSettings(forDuration: .zero, severity: .warning),
        .replicaUnreachable: RuleSettings(forDuration: .seconds(10), severity: .critical),
        .replicaHung: RuleSettings(forDuration: .zero, severity: .critical),
        .replicaSilent: RuleSettings(forDuration: .zero, severity: .warning),
        .replicaIsolated: RuleSettings(forDuration: .zero, severity: .critical),
        .replicaBehind: RuleSettings(forDuration: .zero, severity: .warning),
        // beetlewatch cannot reach a replica while its cluster commits: its own network is the suspect; not a page.
        .replicaUnobserved: RuleSettings(forDuration: .seconds(10), severity: .warning),
        // Alertmanager holds the replica alerts back while quorum is lost (alertmanager.yml): kept firing 10 s after
        // quorum returns, the replicas that come back with the cluster (a second or two apart) are over before it ends.
        .quorumLost: RuleSettings(forDuration: .zero, severity: .critical, keepFiringFor: .seconds(10)),
        .viewChanged: RuleSettings(forDuration: .zero, severity: .warning, window: .seconds(60)),
        .storageFaults: RuleSettings(forDuration: .seconds(60), severity: .warning),
        .clockSkew: RuleSettings(forDuration: .seconds(60), severity: .warning, threshold: 0.5),
        .releaseMismatch: RuleSettings(forDuration: .zero, severity: .info),
    ]
}
