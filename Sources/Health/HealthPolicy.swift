/// The thresholds the verdicts use.
public struct HealthPolicy: Sendable, Equatable {
    /// A replica is silent when no StatsD line came from it for longer than this (ns).
    public var staleAfter: Int64
    /// When the agent started (ns since the epoch): before `staleAfter` has passed, a
    /// replica not yet heard from is `unknown`, not `silent`.
    public var startedAt: Int64
    /// A probe result older than this (the probe interval plus twice its timeout, ns) counts as no result.
    public var probeResultTTL: Int64
    /// A replica whose view is below its cluster's highest for longer than this is `behind` (ns).
    public var viewLagAfter: Int64
    /// A replica whose `commit_max` trails its cluster's highest by more than this many ops ...
    public var commitLagOps: Double
    /// ... for longer than this (ns), while the cluster's highest advances, is `behind`.
    public var commitLagAfter: Int64

    /// A canary's last commit older than this (its interval plus its timeout, and a second) says nothing about now.
    public var canaryResultTTL: Int64 = 3_000_000_000
    /// How long a canary request sent through one backup alone waits before it goes to every replica (half the canary's
    /// timeout): a backup that did not get it to the primary by then cannot reach it.
    public var canaryForwardWait: Int64 = 500_000_000
    /// How long the canary must have failed, while a majority of the replicas answer beetlewatch, before that alone is
    /// a lost quorum: longer than a view change (TigerBeetle's backups elect a new primary ~1.5 s after the old one
    /// stops; the canary finds it within its interval), so a failover does not page (the simulator, seed 100405:
    /// QuorumLost paged for a 1.5 s view change). The canary's interval and timeout, and half a second.
    public var canaryFailingIsQuorumLostAfter: Int64 = 2_500_000_000

    /// TigerBeetle's StatsD interval: a view known only from StatsD may be this much older than a pong's.
    public static let statsdInterval: Int64 = 10_000_000_000

    public init(
        staleAfter: Int64 = 25_000_000_000, startedAt: Int64, probeResultTTL: Int64 = 2_000_000_000,
        viewLagAfter: Int64 = 5_000_000_000, commitLagOps: Double = 10_000, commitLagAfter: Int64 = 30_000_000_000
    ) {
        self.staleAfter = staleAfter
        self.startedAt = startedAt
        self.probeResultTTL = probeResultTTL
        self.viewLagAfter = viewLagAfter
        self.commitLagOps = commitLagOps
        self.commitLagAfter = commitLagAfter
    }

    /// The smallest majority of `replicaCount` replicas.
    public static func majority(of replicaCount: Int) -> Int { replicaCount / 2 + 1 }
}
