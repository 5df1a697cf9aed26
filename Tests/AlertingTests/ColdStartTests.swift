import MetricStore
import TestSupport
import Testing
import TigerBeetle

@testable import Alerting
@testable import Health

private let s = Duration.seconds(1)

/// Issue 13's cold start: beetlewatch and the cluster starting together once fired and resolved
/// QuorumLost twice within 30 s. Now a normal start pages nobody, on the recorded capture and on a replayed
/// cold start, with the agent's settings (probe every second, no alert before its condition held one
/// probe interval).
@Suite struct ColdStartTests {
    static let watched = CaptureTimeline.watched
    static func key(_ replica: Int) -> ReplicaKey { ReplicaKey(cluster: CaptureTimeline.cluster, replica: replica) }

    /// The recorded capture's first 80 s (the cluster running, beetlewatch starting beside it): no alert.
    @Test func theCapturesStartPagesNobody() throws {
        let timeline = try CaptureTimeline()
        var engine = AlertEngine()
        engine.minimumFor = s
        var transitions: [Alert] = []
        for second in 0...80 {
            transitions += engine.evaluate(timeline.reports[second]!, now: CaptureTimeline.epoch + .seconds(second))
        }
        #expect(transitions.isEmpty, "\(transitions.map { "\($0.name.rawValue) \($0.state)" })")
    }

    /// beetlewatch starts at 0 s; the replicas' ports open at 6, 7 and 8 s (TigerBeetle takes seconds to
    /// start); their first StatsD comes 10 s later (the capture's lines, shifted). No alert, ever.
    @Test func aReplayedColdStartPagesNobody() throws {
        let capture = try Fixtures.capture()
        let firstLine = capture[0].time
        var store = MetricStore(options: .init())
        var engine = AlertEngine()
        engine.minimumFor = s
        var progress = ProgressTracker()
        let policy = HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch, probeResultTTL: .seconds(2))
        var transitions: [Alert] = []
        var next = 0
        var states: [Int: [ReplicaState]] = [:]
        for tenth in 0...600 {
            let now = WallInstant.milliseconds(tenth * 100)
            // StatsD from 18 s on: the capture's first 42 s.
            while next < capture.count, .seconds(18) + .nanoseconds(Int64((capture[next].time - firstLine) * 1e9)) <= now {
                Array(capture[next].text.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now) }
                next += 1
            }
            var probes: [ReplicaKey: ProbeResult] = [:]
            for replica in 0..<3 {
                let opens = WallInstant.seconds(6 + replica)
                probes[Self.key(replica)] =
                    now < opens
                    ? ProbeResult(outcome: .unreachable, durationSeconds: 0.0001, at: now, error: "Connection refused")
                    : ProbeResult(outcome: .answering, durationSeconds: 0.0005, at: now, reachableSince: opens, view: 1, release: "0.17.9")
            }
            let report = HealthEvaluator.evaluate(
                watched: [Self.watched], signals: store.signals, probes: probes, policy: policy,
                progress: &progress, now: now)
            for replica in report.clusters[0].replicas { states[replica.replica, default: []].append(replica.state) }
            transitions += engine.evaluate(report, now: now)
        }
        #expect(transitions.isEmpty, "\(transitions.map { "\($0.name.rawValue) \($0.state)" })")
        // Starting, then waiting for StatsD, then healthy: never unreachable, never silent.
        for replica in 0..<3 {
            #expect(!states[replica]!.contains(.unreachable) && !states[replica]!.contains(.silent))
            #expect(states[replica]!.last == .healthy)
        }
    }

    /// The start-up grace has limits: a cluster still down after stale-after is unreachable (and pages), and a
    /// replica that was reachable and then refused is unreachable at once.
    @Test func aClusterDownAtStartIsUnreachableAfterStaleAfter() {
        let policy = HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch, probeResultTTL: .seconds(2))
        func state(_ probe: ProbeResult, at second: Int64) -> ReplicaState {
            HealthEvaluator.evaluate(
                watched: [Self.watched], signals: TigerBeetleSignals(), probes: [Self.key(0): probe], policy: policy,
                now: .seconds(second)
            ).clusters[0].replicas[0].state
        }
        let refused = { (second: Int64) in
            ProbeResult(outcome: .unreachable, durationSeconds: 0, at: .seconds(second), error: "Connection refused")
        }
        #expect(state(refused(10), at: 10) == .unknown)
        #expect(state(refused(25), at: 25) == .unknown)
        #expect(state(refused(26), at: 26) == .unreachable)
        var wasUp = refused(10)
        wasUp.everReachable = true
        #expect(state(wasUp, at: 10) == .unreachable)
    }

    /// A condition that holds for less than one probe interval does not fire.
    @Test func aFlagClearedWithinOneProbeIntervalDoesNotPage() {
        var engine = AlertEngine()
        engine.minimumFor = s
        var good = HealthReport(generatedAt: 0, clusters: [])
        var bad = good
        bad.clusters = [
            ClusterVerdict(
                id: CaptureTimeline.cluster, name: "0", watched: true, replicaCount: 3, healthyReplicas: 1, quorumSize: 2,
                quorum: false, quorumLost: true, highestView: nil, viewChanges: 0, releases: [], notes: [], replicas: [],
                summary: "NO QUORUM")
        ]
        good.clusters = []
        #expect(engine.evaluate(bad, now: .epoch).isEmpty)
        #expect(engine.evaluate(bad, now: .milliseconds(500)).isEmpty)
        #expect(engine.evaluate(good, now: .milliseconds(900)).isEmpty)
        // Held for a whole interval: fires.
        #expect(engine.evaluate(bad, now: .seconds(2)).isEmpty)
        #expect(engine.evaluate(bad, now: .seconds(3)).map(\.name) == [.quorumLost])
    }

    /// Replicas that hang together are flagged up to a probe interval apart (here 0.6 s). QuorumLost, held one
    /// probe interval, fires before either replica's Hung, held two: the inhibition that holds them back
    /// (webhooks and Alertmanager alike) is in place when they fire, and one page goes out, not three.
    @Test func replicasHungTogetherPageQuorumLostFirst() {
        var store = MetricStore(options: .init())
        var engine = AlertEngine()
        engine.minimumFor = s
        var progress = ProgressTracker()
        let policy = HealthPolicy(staleAfter: .seconds(25), startedAt: .epoch, probeResultTTL: .seconds(2))
        let hangs: [Int: WallInstant] = [1: .seconds(10), 2: .milliseconds(10_600)]
        var fired: [String: WallInstant] = [:]
        for tenth in 0...200 {
            let now = WallInstant.milliseconds(tenth * 100)
            for replica in 0..<3 where tenth % 10 == 0 && hangs[replica].map({ now < $0 }) != false {
                Array("tb.replica_status:0|g|#cluster:\(CaptureTimeline.cluster),replica:\(replica)".utf8).withUnsafeBytes {
                    store.ingest(datagram: $0, now: now)
                }
            }
            var probes: [ReplicaKey: ProbeResult] = [:]
            for replica in 0..<3 {
                let hung = hangs[replica].map { now >= $0 } ?? false
                probes[Self.key(replica)] = ProbeResult(
                    outcome: hung ? .hung : .answering, durationSeconds: 0.0005, at: now,
                    error: hung ? "no pong" : nil, reachableSince: .epoch, view: 1, release: "0.17.9")
            }
            let report = HealthEvaluator.evaluate(
                watched: [Self.watched], signals: store.signals, probes: probes, policy: policy,
                progress: &progress, now: now)
            for alert in engine.evaluate(report, now: now) where alert.state == .firing {
                fired["\(alert.name.rawValue)\(alert.labels["replica"].map { " \($0)" } ?? "")"] = now
            }
        }
        #expect(
            fired == [
                "TigerBeetleQuorumLost": .milliseconds(11_600), "TigerBeetleReplicaHung 1": .seconds(12),
                "TigerBeetleReplicaHung 2": .milliseconds(12_600),
            ])
    }
}
