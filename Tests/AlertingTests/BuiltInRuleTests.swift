import Health
import MetricStore
import Testing
import TigerBeetle

@testable import Alerting

let second = Duration.seconds(1)
let cluster = String(repeating: "0", count: 31) + "5"
let watched = WatchedCluster(id: cluster, name: "5", addresses: ["10.0.0.1:3001", "10.0.0.2:3001", "10.0.0.3:3001"])

/// A synthetic timeline: at each second, lines sent and which probes fail.
struct Synthetic {
    var store = MetricStore()
    var engine: AlertEngine
    var events: [(second: Int, alert: Alert)] = []

    init(rules: AlertRules = AlertRules()) {
        engine = AlertEngine(rules: rules)
    }

    static func lines(
        _ replica: Int, status: Int = 0, sync: Int = 0, peers: Int = 2, view: Int = 1,
        faulty: Int = 0, missing: Int = 0, clockNs: Int = 0
    ) -> String {
        let tags = "#cluster:\(cluster),replica:\(replica)"
        return """
            tb.replica_status:\(status)|g|\(tags)
            tb.replica_sync_stage:\(sync)|g|\(tags)
            tb.message_bus_connections:\(peers)|g|\(tags),peer:replica
            tb.replica_view:\(view)|g|\(tags)
            tb.journal_faulty:\(faulty)|g|\(tags)
            tb.grid_blocks_missing:\(missing)|g|\(tags)
            tb.clock_delta_ns:\(clockNs)|g|\(tags)
            """
    }

    /// Runs seconds `range`; `replica1` gives replica 1's lines each second (others are healthy);
    /// `down` says which replicas' probes fail at that second.
    mutating func run(_ range: ClosedRange<Int>, replica1: (Int) -> String?, down: (Int) -> Set<Int> = { _ in [] }) {
        for s in range {
            let now = WallInstant.seconds(s)
            for replica in [0, 2] { send(Self.lines(replica), at: now) }
            if let line = replica1(s) { send(line, at: now) }
            let probes = Dictionary(
                uniqueKeysWithValues: (0..<3).map {
                    (
                        ReplicaKey(cluster: cluster, replica: $0),
                        ProbeResult(
                            success: !down(s).contains($0), durationSeconds: 0.001, at: now, error: "connection refused",
                            reachableSince: .epoch)
                    )
                })
            let report = HealthEvaluator.evaluate(
                watched: [watched], signals: store.signals, probes: probes,
                policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: now)
            for alert in engine.evaluate(report, now: now) { events.append((s, alert)) }
        }
    }

    mutating func send(_ text: String, at now: WallInstant) {
        Array(text.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now) }
    }

    func transitions(_ name: AlertName) -> [String] {
        events.filter { $0.alert.name == name }.map { "\($0.alert.state.rawValue)@\($0.second)" }
    }
}

struct RuleCase: Sendable, CustomTestStringConvertible {
    var name: AlertName
    /// Replica 1's condition holds from 10 s to 40 s (exclusive).
    var bad: @Sendable () -> String?
    var down: Bool = false
    var expected: [String]
    var labels: [String: String] = [:]
    var testDescription: String { name.rawValue }
}

@Suite struct BuiltInRuleTests {
    @Test(arguments: [
        RuleCase(
            name: .replicaStatusAbnormal, bad: { Synthetic.lines(1, status: 1) }, expected: ["firing@10", "resolved@40"],
            labels: ["status": "view_change"]),
        RuleCase(name: .replicaSyncing, bad: { Synthetic.lines(1, sync: 2) }, expected: ["firing@10", "resolved@40"]),
        RuleCase(
            name: .replicaUnreachable, bad: { Synthetic.lines(1) }, down: true, expected: ["firing@20", "resolved@40"],
            labels: ["address": "10.0.0.2:3001"]),
        RuleCase(name: .replicaSilent, bad: { nil }, expected: ["firing@35", "resolved@40"]),
        RuleCase(name: .replicaIsolated, bad: { Synthetic.lines(1, peers: 0) }, expected: ["firing@10", "resolved@40"]),
        RuleCase(name: .storageFaults, bad: { Synthetic.lines(1, faulty: 2) }, expected: ["firing@70", "resolved@80"]),
        RuleCase(name: .clockSkew, bad: { Synthetic.lines(1, clockNs: -800_000_000) }, expected: ["firing@70", "resolved@80"]),
    ])
    func ruleFiresWhileItsConditionHoldsAndResolvesAfter(_ c: RuleCase) {
        var timeline = Synthetic()
        // Storage and clock rules have `for: 1m`: hold their condition from 10 s to 80 s instead.
        let end = c.name == .storageFaults || c.name == .clockSkew ? 80 : 40
        timeline.run(
            0...100, replica1: { s in (10..<end).contains(s) ? c.bad() : Synthetic.lines(1) },
            down: { s in c.down && (10..<end).contains(s) ? [1] : [] })
        #expect(timeline.transitions(c.name) == c.expected)
        let fired = timeline.events.first { $0.alert.name == c.name }?.alert
        #expect(fired?.labels["replica"] == "1")
        for (key, value) in c.labels { #expect(fired?.labels[key] == value) }
        // Not firing without its condition.
        var quiet = Synthetic()
        quiet.run(0...100, replica1: { _ in Synthetic.lines(1) })
        #expect(quiet.transitions(c.name).isEmpty)
    }

    /// Active alerts read as a person would: by name, then cluster, then replica as a number (10 after 2).
    @Test func activeAlertsAreInReadingOrder() {
        var store = MetricStore(options: .init())
        for replica in [10, 2, 1] {
            Array("tb.replica_status:1|g|#cluster:\(String(repeating: "a", count: 32)),replica:\(replica)".utf8).withUnsafeBytes {
                store.ingest(datagram: $0, now: .seconds(1))
            }
        }
        var progress = ProgressTracker()
        let report = HealthEvaluator.evaluate(
            watched: [], signals: store.signals, probes: [:],
            policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), progress: &progress, now: .seconds(1))
        var engine = AlertEngine()
        _ = engine.evaluate(report, now: .seconds(1))
        #expect(engine.active.filter { $0.name == .replicaStatusAbnormal }.map { $0.labels["replica"] ?? "" } == ["1", "2", "10"])
    }

    @Test func quorumLostFiresAndResolves() {
        var timeline = Synthetic()
        timeline.run(0...60, replica1: { _ in Synthetic.lines(1) }, down: { s in (20..<30).contains(s) ? [0, 2] : [] })
        // Kept firing 10 s after quorum returns (`keep_firing_for`).
        #expect(timeline.transitions(.quorumLost) == ["firing@20", "resolved@40"])
        #expect(timeline.transitions(.replicaUnreachable) == [])  // 10 s of failures: `for: 10s` not yet met
    }

    /// Alertmanager holds replica alerts back while QuorumLost fires: QuorumLost must outlive the replica alerts of
    /// replicas that come back with the cluster (here 2 s apart), and a relapse within its keep is the same incident.
    @Test func quorumLostOutlivesTheReplicaAlertsOfReplicasBackWithTheCluster() {
        var timeline = Synthetic()
        timeline.run(
            0...120, replica1: { _ in Synthetic.lines(1) },
            down: { s in
                switch s {
                case 20..<60: [0, 2]
                case 60..<62: [2]
                case 65..<68: [0, 2]  // a relapse 5 s into the keep
                default: []
                }
            })
        #expect(timeline.transitions(.replicaUnreachable) == ["firing@30", "firing@30", "resolved@60", "resolved@62"])
        #expect(timeline.transitions(.quorumLost) == ["firing@20", "resolved@78"])
    }

    @Test func viewChangeFiresOncePerChangeAndResolvesOnItsOwn() {
        var timeline = Synthetic()
        timeline.run(0...200, replica1: { s in Synthetic.lines(1, view: s < 50 ? 1 : (s < 150 ? 2 : 3)) })
        #expect(timeline.transitions(.viewChanged) == ["firing@50", "resolved@110", "firing@150"])
    }

    @Test func aPendingAlertThatClearsNeverNotifies() {
        var timeline = Synthetic()
        timeline.run(0...30, replica1: { _ in Synthetic.lines(1) }, down: { s in (5..<10).contains(s) ? [1] : [] })
        #expect(timeline.transitions(.replicaUnreachable).isEmpty)
        #expect(timeline.engine.active.isEmpty)
    }

    @Test func rulesCanBeRetunedOrSwitchedOff() {
        var settings = AlertRules.defaults
        settings[.replicaStatusAbnormal] = RuleSettings(forDuration: .seconds(5), severity: .warning)
        settings[.replicaIsolated]?.enabled = false
        var timeline = Synthetic(rules: AlertRules(settings: settings))
        timeline.run(0...30, replica1: { s in s >= 10 ? Synthetic.lines(1, status: 2, peers: 0) : Synthetic.lines(1) })
        #expect(timeline.transitions(.replicaStatusAbnormal) == ["firing@15"])
        let abnormal = timeline.events.first { $0.alert.name == .replicaStatusAbnormal }?.alert
        #expect(abnormal?.labels["severity"] == "warning")
        #expect(abnormal?.labels["status"] == "recovering")
        #expect(timeline.transitions(.replicaIsolated).isEmpty)
    }
}

@Suite struct PayloadTests {
    let firing = Alert(
        name: .quorumLost, labels: ["alertname": "TigerBeetleQuorumLost", "cluster": "c", "severity": "critical"],
        annotations: ["summary": "s", "description": "d", "runbook_url": "r"], state: .firing,
        activeAt: WallInstant(nanosecondsSinceEpoch: 1_795_736_476_637_000_000),
        firedAt: WallInstant(nanosecondsSinceEpoch: 1_795_736_476_637_000_000))

    @Test func fingerprintIsAlertmanagers() {
        // prometheus/common: LabelSet{}.Fingerprint() is the FNV-1a offset basis; one pair hashes name, 0xff, value, 0xff.
        #expect(Fingerprint.of([:]) == "cbf29ce484222325")
        #expect(Fingerprint.of(["a": "b"]) == Fingerprint.of(["a": "b"]))
        #expect(Fingerprint.of(["a": "b", "c": "d"]) != Fingerprint.of(["a": "bc", "": "d"]))
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_795_736_476_637_000_000, "2026-11-26T23:41:16.637Z"),
        (951_782_400_000_000_000, "2000-02-29T00:00:00.000Z"), (4_102_444_799_999_000_000, "2099-12-31T23:59:59.999Z"),
    ])
    func timestamps(_ ns: Int64, _ text: String) {
        #expect(Timestamp.rfc3339(WallInstant(nanosecondsSinceEpoch: ns)) == text)
    }

    @Test func webhookMessageV4() throws {
        var resolved = firing
        resolved.labels["replica"] = "1"
        resolved = Alert(
            name: .quorumLost, labels: resolved.labels, annotations: firing.annotations, state: .resolved,
            activeAt: firing.activeAt, firedAt: firing.firedAt, resolvedAt: firing.activeAt + .seconds(60))
        let message = try #require(
            WebhookGrouping.message(
                receiver: "ops", group: WebhookGrouping.groupLabels(of: firing),
                firing: [firing], resolved: [resolved], sendResolved: true,
                externalURL: "http://bw:9917"))
        #expect(message.version == "4")
        #expect(message.status == "firing")
        #expect(message.groupKey == "{}:{alertname=\"TigerBeetleQuorumLost\", cluster=\"c\"}")
        #expect(message.groupLabels == ["alertname": "TigerBeetleQuorumLost", "cluster": "c"])
        #expect(message.commonLabels == ["alertname": "TigerBeetleQuorumLost", "cluster": "c", "severity": "critical"])
        #expect(message.alerts.map(\.status) == ["firing", "resolved"])
        #expect(message.alerts[0].endsAt == "0001-01-01T00:00:00Z")
        #expect(message.alerts[1].endsAt == "2026-11-26T23:42:16.637Z")
        #expect(message.alerts[0].generatorURL == "http://bw:9917/api/v1/alerts")
        #expect(message.alerts[0].fingerprint == firing.fingerprint)
        #expect(
            WebhookGrouping.message(receiver: "ops", group: [:], firing: [], resolved: [resolved], sendResolved: false, externalURL: "")
                == nil)
    }

    @Test func alertmanagerAlertsEndInTheFutureWhileFiring() {
        let pushed = AlertmanagerAlert(firing, now: firing.activeAt, lifetime: .seconds(240), externalURL: "http://bw:9917")
        #expect(pushed.startsAt == "2026-11-26T23:41:16.637Z")
        #expect(pushed.endsAt == "2026-11-26T23:45:16.637Z")
    }
}

/// Clusters heard from but not configured: they page only when asked (or when none is watched), and an
/// expired one leaves nothing behind in the engine.
@Suite struct UnwatchedClusterAlertTests {
    static let forged = String(repeating: "0", count: 31) + "f"

    static func report(store: MetricStore, watching: [WatchedCluster], now: WallInstant) -> HealthReport {
        // The watched replicas answer probes from the start (and send no StatsD: silent after 25 s).
        let probes = Dictionary(
            uniqueKeysWithValues: watching.flatMap { cluster in
                cluster.addresses.indices.map {
                    (
                        ReplicaKey(cluster: cluster.id, replica: $0),
                        ProbeResult(success: true, durationSeconds: 0.001, at: now, reachableSince: .epoch)
                    )
                }
            })
        return HealthEvaluator.evaluate(
            watched: watching, signals: store.signals, probes: probes,
            policy: HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch), now: now)
    }

    @Test func anUnwatchedClusterDoesNotPageWhileOthersAreWatched() {
        var store = MetricStore()
        Array("tb.replica_status:1|g|#cluster:\(Self.forged),replica:0".utf8).withUnsafeBytes {
            store.ingest(datagram: $0, now: .seconds(1))
        }
        var quiet = AlertEngine(alertsOnUnwatchedClusters: false)
        var asked = AlertEngine(alertsOnUnwatchedClusters: true)
        var quietFired: [Alert] = []
        var askedFired: [Alert] = []
        for s in 1...60 {
            let report = Self.report(store: store, watching: [watched], now: .seconds(s))
            #expect(report.clusters.contains { $0.id == Self.forged && !$0.watched })
            quietFired += quiet.evaluate(report, now: .seconds(s))
            askedFired += asked.evaluate(report, now: .seconds(s))
        }
        #expect(!quietFired.isEmpty && quietFired.allSatisfy { $0.labels["cluster"] == cluster })
        #expect(askedFired.contains { $0.labels["cluster"] == Self.forged && $0.name == .replicaStatusAbnormal && $0.state == .firing })
        #expect(asked.active.contains { $0.labels["cluster"] == Self.forged && $0.name == .replicaSilent })
    }

    /// The forged cluster's alerts once fired for good; now they resolve when its entries expire.
    @Test func anExpiredUnwatchedClusterResolvesItsAlerts() {
        var store = MetricStore(options: .init(ttl: .seconds(120)))
        Array("tb.replica_status:0|g|#cluster:\(Self.forged),replica:0".utf8).withUnsafeBytes {
            store.ingest(datagram: $0, now: .seconds(1))
        }
        var engine = AlertEngine(alertsOnUnwatchedClusters: true)
        var transitions: [(Int, Alert)] = []
        for s in 1...200 {
            let now = WallInstant.seconds(s)
            store.expire(now: now)
            transitions += engine.evaluate(Self.report(store: store, watching: [], now: now), now: now).map { (s, $0) }
        }
        let silent = transitions.filter { $0.1.name == .replicaSilent }
        #expect(silent.map(\.1.state) == [.firing, .resolved])
        // Silent after 25 s, held for its `for`; gone with the TTL (expiry runs past 121 s).
        #expect(silent.last?.0 == 122)
        #expect(engine.active.isEmpty)
        #expect(store.signals.keys.isEmpty)
    }
}
