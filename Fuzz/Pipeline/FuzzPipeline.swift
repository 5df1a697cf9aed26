// libFuzzer target: the whole pure pipeline, as one hostile StatsD network would drive it.
// Each input is one step: its first byte moves the virtual clock and picks which probes fail, the rest is
// a datagram. The datagram goes through the parser and the store (both naming modes), then health (a
// watched 3-replica cluster, unwatched ones as heard), the alert engine and its payloads, and the
// /metrics page, which must stay valid exposition text (ExpositionValidator). Any trap is a crash.
// Built by Fuzz/run with -sanitize=fuzzer,address from the StatsD, MetricStore, Exposition, Health and
// Alerting sources.
import Foundation
import TigerBeetle

let watchedCluster = String(repeating: "0", count: 32)
let watched = [WatchedCluster(id: watchedCluster, name: "0", addresses: ["127.0.0.1:3001", "127.0.0.1:3002", "127.0.0.1:3003"])]

nonisolated(unsafe) var tigerbeetle = MetricStore(
    options: .init(
        mode: .tigerbeetle, ttl: .seconds(60), maxSeries: 2_000,
        watchedClusters: [watchedCluster], maxUnwatchedClusters: 4))
nonisolated(unsafe) var statsdExporter = MetricStore(options: .init(mode: .statsdExporter, ttl: .zero, maxSeries: 2_000))
nonisolated(unsafe) var engine = AlertEngine(alertsOnUnwatchedClusters: true)
nonisolated(unsafe) var clock = WallInstant(nanosecondsSinceEpoch: 1_000_000_000)
nonisolated(unsafe) var steps = 0
let encoder = JSONEncoder()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    clock += .seconds(Int(control & 0x1F)) + .nanoseconds(1)
    let datagram = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    tigerbeetle.ingest(datagram: datagram, now: clock)
    statsdExporter.ingest(datagram: datagram, now: clock)
    if control & 0x20 != 0 { tigerbeetle.expire(now: clock) }

    var probes: [ReplicaKey: ProbeResult] = [:]
    for replica in 0..<3 {
        let down = control & (0x40 << (replica & 1)) != 0 && replica != 2
        probes[ReplicaKey(cluster: watchedCluster, replica: replica)] = ProbeResult(
            success: !down, durationSeconds: 0.001, at: clock,
            error: down ? "connection refused" : nil)
    }
    let report = HealthEvaluator.evaluate(
        watched: watched, signals: tigerbeetle.signals, probes: probes,
        policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: clock)
    let transitions = engine.evaluate(report, now: clock)
    for alert in transitions {
        let group = WebhookGrouping.groupLabels(of: alert)
        let message = WebhookGrouping.message(
            receiver: "fuzz", group: group, firing: [], resolved: [alert], sendResolved: true,
            externalURL: "http://beetlewatch:9917")
        precondition((try? encoder.encode(message)) != nil)
        precondition((try? encoder.encode([AlertmanagerAlert(alert, now: clock, lifetime: .seconds(240), externalURL: "")])) != nil)
    }
    precondition(tigerbeetle.signals.unwatchedClusterCount <= 4)
    precondition(tigerbeetle.seriesCount <= 2_000 && statsdExporter.seriesCount <= 2_000)

    steps += 1
    // The page of every 64th step: rendering and checking it is the slow part.
    if steps % 64 == 0 {
        for store in [tigerbeetle, statsdExporter] {
            let own =
                SelfMetrics.families(
                    ingest: store.stats, signals: store.signals, receiver: ReceiverStats(), liveSeries: store.seriesCount,
                    mode: store.options.mode, build: BuildInfo(version: "fuzz", swiftVersion: "6"))
                + HealthMetrics.families(report) + AlertMetrics.families(active: engine.active, notifications: [])
            let page = MetricsPage.render(store: store, extra: own, now: clock)
            if let problem = ExpositionValidator.problem(in: page) {
                fatalError("invalid /metrics page: \(problem)")
            }
        }
    }
    return 0
}
