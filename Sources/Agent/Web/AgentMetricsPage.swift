import Alerting
import Exposition
import Health
import MetricStore
import TigerBeetle

/// `/metrics`: the series received over StatsD, then beetlewatch's own families, each from the part that owns
/// it: ingest and the UDP receiver, the alert loop and its channels, reloads, the HTTP server with its auth gate
/// and the prober's local errors, and health. The store is copied under its lock in O(1) and rendered outside it.
struct AgentMetricsPage: Sendable {
    /// The last page's size: the next one is rendered into one buffer of about that size, not a doubling chain
    /// (whose freed steps, up to 32 MiB each, stayed in the heap: +36 MiB resident after one scrape of 1M series).
    let lastSize = SharedValue(0)

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

    func render(now: WallInstant) -> PageBuffer {
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
            + HealthMetrics.families(health.report(now: now))
        // The first page: about 48 bytes a series.
        let last = lastSize.value
        let hint = last > 0 ? last + last / 8 : store.seriesCount &* 48
        let page = MetricsPage.renderPage(store: store, extra: own, now: now, capacityHint: max(64 * 1024, hint))
        lastSize.update { $0 = page.count }
        return page
    }
}
