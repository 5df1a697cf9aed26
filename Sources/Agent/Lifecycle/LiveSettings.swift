import Config
import Health
import TigerBeetle

/// The configuration in force, with what health reads on every evaluation worked out once; replaced on reload.
struct LiveSettings: Sendable {
    var config: AgentConfig
    var watched: [WatchedCluster]
    var policy: HealthPolicy

    init(_ config: AgentConfig, startedAt: WallInstant) {
        self.config = config
        watched = config.watchedClusters
        policy = config.healthPolicy(startedAt: startedAt)
    }
}
