import TigerBeetle

/// The thresholds the verdicts use.
public struct HealthPolicy: Sendable, Equatable {
    /// A replica is silent when no StatsD line came from it for longer than this.
    public var staleAfter: Duration
    /// When the agent started: before `staleAfter` has passed, a replica not yet heard from is `unknown`, not `silent`.
    public var startedAt: WallInstant
    /// A probe result older than this (the probe interval plus twice its timeout) counts as no result.
    public var probeResultTTL: Duration
    /// A replica whose view is below its cluster's highest for longer than this is `behind`.
    public var viewLagAfter: Duration
    /// A replica whose `commit_max` trails its cluster's highest by more than this many ops ...
    public var commitLagOps: Double
    /// ... for longer than this, while the cluster's highest advances, is `behind`.
    public var commitLagAfter: Duration

    /// A canary's last commit older than this (its interval plus its timeout, and a second) says nothing about now.
    public var canaryResultTTL: Duration = .seconds(3)
    /// How long a canary request sent through one backup alone waits before it goes to every replica (half the canary's
    /// timeout): a backup that did not get it to the primary by then cannot reach it.
    public var canaryForwardWait: Duration = .milliseconds(500)
    /// How long the canary must have failed, while a majority of the replicas answer beetlewatch, before that alone is
    /// a lost quorum: longer than a view change (TigerBeetle's backups elect a new primary ~1.5 s after the old one
    /// stops; the canary finds it within its interval), so a failover does not page (the simulator, seed 100405:
    /// QuorumLost paged for a 1.5 s view change). The canary's interval and timeout, and half a second.
    public var canaryFailingIsQuorumLostAfter: Duration = .milliseconds(2_500)

    /// TigerBeetle's StatsD interval: a view known only from StatsD may be this much older than a pong's.
    public static let statsdInterval: Duration = .seconds(10)

    public init(
        staleAfter: Duration = .seconds(25), startedAt: WallInstant, probeResultTTL: Duration = .seconds(2),
        viewLagAfter: Duration = .seconds(5), commitLagOps: Double = 10_000, commitLagAfter: Duration = .seconds(30)
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
