/// The thresholds the verdicts use.
public struct HealthPolicy: Sendable, Equatable {
    /// A replica is silent when no StatsD line came from it for longer than this (ns).
    public var staleAfter: Int64
    /// When the agent started (ns since the epoch): before `staleAfter` has passed, a
    /// replica not yet heard from is `unknown`, not `silent`.
    public var startedAt: Int64

    public init(staleAfter: Int64 = 25_000_000_000, startedAt: Int64) {
        self.staleAfter = staleAfter
        self.startedAt = startedAt
    }

    /// The smallest majority of `replicaCount` replicas.
    public static func majority(of replicaCount: Int) -> Int { replicaCount / 2 + 1 }
}
