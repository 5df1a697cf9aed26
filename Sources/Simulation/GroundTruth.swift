import TigerBeetle

/// The truth of a simulated run as it happened, for the invariants: since when the cluster commits or does not, and
/// each replica's process, path and peers over time (the last time each fault held).
public struct GroundTruth: Sendable {
    public struct ReplicaTruth: Sendable {
        public var process: SimulatedCluster.Process = .running
        public var processSince: MonotonicInstant = .zero
        public var cut = false
        public var lossy = false
        public var isolated = false
        public var syncing = false
        /// The last time it was stopped, crashed, cut from the agent, lossy or isolated (nil: never).
        public var lastStopped: MonotonicInstant?
        public var lastCrashed: MonotonicInstant?
        public var lastCut: MonotonicInstant?
        public var lastLossy: MonotonicInstant?
        public var lastIsolated: MonotonicInstant?
        public var lastSyncing: MonotonicInstant?
        /// What the agent was last told of its sync (a `replica_sync_stage` line that reached it): whether it syncs,
        /// and when. StatsD is lossy: the agent knows a sync ended only once a line saying so arrives.
        public var toldSyncing: (syncing: Bool, at: MonotonicInstant)?
    }

    public private(set) var commits = true
    public private(set) var commitsSince: MonotonicInstant = .zero
    /// The last time the cluster did not commit (nil: never).
    public private(set) var lastNotCommitting: MonotonicInstant?
    public private(set) var replicas: [ReplicaTruth]
    /// The last time the replicas ran different releases (nil: never).
    public private(set) var lastReleasesDiffered: MonotonicInstant?
    public private(set) var releasesDiffer = false
    /// Since when the replicas down now (crashed or stopped) have been a majority, nil while they are not: when the
    /// last of the earliest majority of them went down. (A replica back while another went down is a new majority:
    /// seed 3017173, where replica 1 continued 0.3 s after replica 2 stopped, and the agent could know replica 2 down
    /// only once it was hung, 3 s after its own stop.)
    public private(set) var majorityDownSince: MonotonicInstant?

    public init(replicas: Int) {
        self.replicas = Array(repeating: ReplicaTruth(), count: replicas)
    }

    /// Records the truth at `now` (called at every step, before the agent's verdicts are judged).
    /// What held until now counts as holding now: a fault that ended at this instant held until it.
    public mutating func observe(_ cluster: SimulatedCluster, paths: [SimulatedNetwork.Path], now: MonotonicInstant) {
        if !commits || !cluster.commits { lastNotCommitting = now }
        for i in replicas.indices {
            let old = replicas[i]
            if old.process == .stopped || cluster.replicas[i].process == .stopped { replicas[i].lastStopped = now }
            if old.process == .crashed || cluster.replicas[i].process == .crashed { replicas[i].lastCrashed = now }
            if old.cut || paths[i].cut { replicas[i].lastCut = now }
            if old.lossy || paths[i].loss > 0 || paths[i].delay > .zero { replicas[i].lastLossy = now }
            if old.isolated || cluster.replicas[i].isolated { replicas[i].lastIsolated = now }
            if old.syncing || cluster.replicas[i].syncing { replicas[i].lastSyncing = now }
        }
        if cluster.commits != commits {
            commits = cluster.commits
            commitsSince = now
        }
        for i in replicas.indices {
            let process = cluster.replicas[i].process
            if process != replicas[i].process {
                replicas[i].process = process
                replicas[i].processSince = now
            }
            replicas[i].cut = paths[i].cut
            replicas[i].lossy = paths[i].loss > 0 || paths[i].delay > .zero
            replicas[i].isolated = cluster.replicas[i].isolated
            replicas[i].syncing = cluster.replicas[i].syncing
        }
        if releasesDiffer || cluster.releasesDiffer { lastReleasesDiffered = now }
        releasesDiffer = cluster.releasesDiffer
        let downSince = replicas.filter { $0.process != .running }.map(\.processSince).sorted()
        let majority = replicas.count / 2 + 1
        majorityDownSince = downSince.count >= majority ? downSince[majority - 1] : nil
    }

    /// A `replica_sync_stage` line from replica `replica` reached the agent at `now`.
    public mutating func told(replica: Int, syncStage: Int, now: MonotonicInstant) {
        guard replicas.indices.contains(replica) else { return }
        replicas[replica].toldSyncing = (syncStage != 0, now)
    }

    /// Whether `time` (optional) is within `window` before `now`.
    public static func within(_ time: MonotonicInstant?, _ window: Duration, of now: MonotonicInstant) -> Bool {
        time.map { now - $0 <= window } ?? false
    }
}
