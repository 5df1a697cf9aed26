import Alerting
import Exposition
import Health
import MetricStore
import TigerBeetle

/// `/metrics`: the series received over StatsD, then beetlewatch's own families, each from the part that owns
/// it: ingest and the UDP receiver, the alert loop and its channels, reloads, the HTTP server with its auth gate
/// and the prober's local errors, and health. The store is copied under its lock in O(1) and rendered outside it.
/// A page of one scope (`/metrics/clusters/<id>`, `/metrics/agent`) is the part of it that scope shows.
struct AgentMetricsPage: Sendable {
    /// The last page's size, per kind of page: the next one is rendered into one buffer of about that size, not a
    /// doubling chain (whose freed steps, up to 32 MiB each, stayed in the heap: +36 MiB resident after one scrape of
    /// 1M series). Cluster pages share one hint, the last cluster page's: a fleet's clusters are alike, and a cluster
    /// page sized by the whole page would allocate all of `/metrics` (263 MB at 1,000 clusters) per cluster scrape.
    let lastSize = SharedValue(0)
    let lastAgentSize = SharedValue(0)
    let lastClusterSize = SharedValue(0)

    let store: SharedStore
    let queue: IngestQueue
    let receiver: UDPReceiver
    let alertLoop: AlertLoop
    let reloadStatus: SharedValue<ReloadStatus>
    let http: HTTPServer
    let authGate: BasicAuthGate
    let prober: ReplicaProber
    let health: HealthSource
    let mode: NamingMode
    let build: BuildInfo

    func render(now: WallInstant, scope: PageScope = .all) -> PageBuffer {
        let store = store.snapshot()
        let receiverStats = ReceiverStats(
            queueDrops: queue.drops, kernelDrops: receiver.kernelDrops(),
            receiveBufferBytes: receiver.receiveBufferBytes)
        var server = http.stats
        server.authFailures = authGate.authFailures
        server.probeLocalErrors = prober.localErrorCount
        let own =
            SelfMetrics.families(
                ingest: store.stats, signals: store.signals, receiver: receiverStats,
                liveSeries: store.seriesCount, mode: mode, build: build)
            + AlertMetrics.families(
                active: alertLoop.active, notifications: alertLoop.channels.map(\.stats),
                alertmanagers: alertLoop.alertmanagerCount)
            + ReloadMetrics.families(reloadStatus.value)
            + ServerMetrics.families(server)
            // Only the scope's clusters judged: health over a fleet's 6,000 replicas is not worked out for one cluster.
            + HealthMetrics.families(health.report(now: now, scope: scope))
        let sizeHint = sizeHint(scope)
        let last = sizeHint.value
        // The first page of all: about 48 bytes a series. Of a part: the floor (the buffer grows if need be).
        let first = scope == .all ? store.seriesCount &* 48 : 0
        let hint = last > 0 ? last + last / 8 : first
        let page = MetricsPage.renderPage(store: store, extra: own, now: now, capacityHint: max(64 * 1024, hint), scope: scope)
        sizeHint.update { $0 = page.count }
        return page
    }

    private func sizeHint(_ scope: PageScope) -> SharedValue<Int> {
        switch scope {
        case .all: lastSize
        case .unclustered: lastAgentSize
        case .cluster: lastClusterSize
        }
    }
}
