/// Everything known about one replica, and the verdict.
public struct ReplicaVerdict: Sendable, Equatable, Codable {
    public var cluster: String
    public var replica: Int
    public var address: String?
    public var state: ReplicaState
    public var healthy: Bool
    public var reasons: [Reason]
    /// Last StatsD line from it, Unix seconds.
    public var lastSeen: Double?
    public var secondsSinceSeen: Double?
    public var probe: ProbeResult?
    public var status: Int?
    public var statusName: String?
    public var syncStage: Double?
    public var peerReplicaConnections: Double?
    /// The view in its last StatsD `replica_view`.
    public var view: Double?
    /// The view in its last pong (its durable log view), while the probe result is current.
    public var pongView: Double?
    public var commitMax: Double?
    /// Its release, `0.17.9`: from its last pong, else its StatsD `release` gauge.
    public var release: String?
    /// Whether its StatsD is recent enough for its values to count (not silent).
    public var fresh: Bool
    public var journalFaulty: Double?
    public var gridBlocksMissing: Double?
    public var clockDeltaSeconds: Double?
}

extension ReplicaVerdict {
    /// Whether its state is the most severe of its reasons' (healthy: none that is not) and `healthy` says so.
    var isConsistent: Bool {
        state == HealthEvaluator.state(of: reasons) && healthy == (state == .healthy)
    }
}

/// A cluster's verdict.
public struct ClusterVerdict: Sendable, Equatable, Codable {
    /// 32 hex digits, as the `cluster` label.
    public var id: String
    /// The configured (decimal) id, for watched clusters.
    public var name: String?
    public var watched: Bool
    /// Configured replica count, or (unwatched) the replicas heard from.
    public var replicaCount: Int
    public var healthyReplicas: Int
    /// Healthy replicas needed for quorum (a majority).
    public var quorumSize: Int
    /// Whether a majority is healthy; nil when the replica count is not configured.
    public var quorum: Bool?
    /// Whether quorum is known to be lost: even counting the replicas still waiting for
    /// data (`unknown`) as healthy, there is no majority. False while merely waiting.
    public var quorumLost: Bool
    public var highestView: Double?
    public var viewChanges: UInt64
    /// The releases its replicas report, sorted; more than one while an upgrade is under way.
    public var releases: [String]
    /// Informational findings that make no replica unhealthy: several releases, a probe evicted for its release.
    public var notes: [String]
    public var replicas: [ReplicaVerdict]
    /// One line: "quorum: 3 of 3 replicas healthy (needs 2)".
    public var summary: String
    /// Its canary's latest result (watched clusters with a canary).
    public var canary: CanaryResult?
    /// Whether it commits, by its canary: nil when not known.
    public var committing: Bool?
    /// Whether its replicas' own evidence shows quorum lost (fewer healthy, counting those still waiting, than a
    /// majority), whatever the canary says: while the canary still commits, the cluster's verdict may yet turn.
    public var replicasShowQuorumLost: Bool = false
}

/// The whole health model at one instant.
public struct HealthReport: Sendable, Equatable, Codable {
    /// Unix seconds.
    public var generatedAt: Double
    public var clusters: [ClusterVerdict]

    public init(generatedAt: Double, clusters: [ClusterVerdict]) {
        self.generatedAt = generatedAt
        self.clusters = clusters
    }

    public func cluster(_ id: String) -> ClusterVerdict? { clusters.first { $0.id == id } }
}
