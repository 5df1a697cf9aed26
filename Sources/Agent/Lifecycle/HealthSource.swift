import Health
import MetricStore
import Synchronization
import TigerBeetle

/// The health report at a given time, from what it is judged on and nothing more: the settings in force, the
/// replicas' StatsD signals (not the series), and the prober's results (probes and canaries). It also keeps since when replicas trail their
/// cluster, across evaluations (scrapes and the alert loop both ask).
final class HealthSource: Sendable {
    private let live: SharedValue<LiveSettings>
    private let store: SharedStore
    private let prober: ReplicaProber
    private let progress = Mutex(ProgressTracker())

    init(live: SharedValue<LiveSettings>, store: SharedStore, prober: ReplicaProber) {
        self.live = live
        self.store = store
        self.prober = prober
    }

    func report(now: WallInstant) -> HealthReport {
        report(now: now, onlyCluster: nil)
    }

    /// The report's part a page of `scope` shows: every cluster, one (judged alone: a fleet's cluster page does not
    /// judge the other thousand), or none (every verdict is a cluster's, so the unclustered page holds no health).
    func report(now: WallInstant, scope: PageScope) -> HealthReport {
        switch scope {
        case .all: report(now: now, onlyCluster: nil)
        case .cluster(let id): report(now: now, onlyCluster: id)
        case .unclustered: HealthReport(generatedAt: now.unixSeconds, clusters: [])
        }
    }

    private func report(now: WallInstant, onlyCluster: String?) -> HealthReport {
        let settings = live.value
        let signals = store.signals()
        let probes = prober.snapshot()
        let canaries = prober.canarySnapshot()
        return progress.withLock { progress in
            HealthEvaluator.evaluate(
                watched: settings.watched, signals: signals, probes: probes, canaries: canaries, policy: settings.policy,
                progress: &progress, now: now, onlyCluster: onlyCluster)
        }
    }
}
