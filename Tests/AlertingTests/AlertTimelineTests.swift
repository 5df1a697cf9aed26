import Health
import TestSupport
import Testing
import TigerBeetle

@testable import Alerting

/// The built-in rules over the recorded capture's health timeline, evaluated once a second.
@Suite struct AlertTimelineTests {
    struct Event: Equatable {
        var second: Int
        var alert: Alert
    }

    let events: [Event]

    init() throws {
        let timeline = try CaptureTimeline()
        var engine = AlertEngine()
        var events: [Event] = []
        for second in 0...242 {
            let now = CaptureTimeline.epoch + .seconds(second)
            for alert in engine.evaluate(timeline.reports[second]!, now: now) {
                events.append(Event(second: second, alert: alert))
            }
        }
        self.events = events
    }

    func fired(_ name: AlertName) -> [Event] { events.filter { $0.alert.name == name && $0.alert.state == .firing } }
    func resolved(_ name: AlertName) -> [Event] { events.filter { $0.alert.name == name && $0.alert.state == .resolved } }

    @Test func replicaOneUnreachableAfterItsKill() throws {
        let unreachable = fired(.replicaUnreachable).filter { $0.alert.labels["replica"] == "1" }
        let first = try #require(unreachable.first)
        // Killed at 81.1 s; the first failed probe at 82 s; `for: 10s`.
        #expect(first.second == 92)
        #expect(first.alert.labels["address"] == "127.0.0.1:3001")
        #expect(first.alert.labels["severity"] == "critical")
        #expect(resolved(.replicaUnreachable).first { $0.alert.labels["replica"] == "1" }?.second == 128)
    }

    @Test func quorumLostAfterTheDoubleKillAndResolvedAfterTheRestart() throws {
        let lost = fired(.quorumLost)
        #expect(lost.map(\.second) == [168])
        #expect(lost[0].alert.labels == ["alertname": "TigerBeetleQuorumLost", "cluster": CaptureTimeline.cluster, "severity": "critical"])
        #expect(lost[0].alert.annotations["summary"] == "TigerBeetle cluster 0 has lost quorum")
        #expect(lost[0].alert.annotations["runbook_url"]?.hasSuffix("docs/alerts.md#tigerbeetlequorumlost") == true)
        // Replicas 0 and 2 restart at 202.3 s and accept connections from the 204 s probe on: waiting for their
        // StatsD (not silent: they just started), they may be healthy, so quorum is no longer known lost.
        // (`tigerbeetle_cluster_quorum` stays 0 until they report, at 215.4 s.) The alert keeps firing 10 s longer.
        #expect(resolved(.quorumLost).map(\.second) == [214])
    }

    @Test func twoViewChangesEachFireOnceAndResolveOnTheirOwn() {
        #expect(fired(.viewChanged).map(\.second) == [83, 211])
        // `window: 1m`: the first resolves at 143 s; the second would at 271 s, after the capture ends.
        #expect(resolved(.viewChanged).map(\.second) == [143])
    }

    @Test func noStatusAbnormalInTheCapture() {
        #expect(fired(.replicaStatusAbnormal).isEmpty)
    }

    /// The killed replicas are unreachable and silent: one fault, one alert each (Unreachable), not Silent as well.
    @Test func theLoneReplicaIsIsolatedAndTheDeadOnesUnreachableNotAlsoSilent() {
        #expect(fired(.replicaIsolated).map { $0.alert.labels["replica"]! } == ["1"])
        #expect(Set(fired(.replicaUnreachable).map { $0.alert.labels["replica"]! }) == ["0", "1", "2"])
        #expect(fired(.replicaSilent).isEmpty)
    }
}

/// `nextTransitionAt`: when an evaluation would change an alert with the report unchanged, so the agent evaluates
/// then and not on its next once-a-second tick.
@Suite struct NextTransitionTests {
    @Test func aPendingAlertIsDueWhenItsHoldRunsOutAndAKeptOneWhenItsKeepDoes() throws {
        let timeline = try CaptureTimeline()
        var rules = AlertRules()
        rules.settings[.viewChanged]?.enabled = false  // the capture's view count would fire it at the first evaluation
        var engine = AlertEngine(rules: rules)
        engine.minimumFor = .milliseconds(200)  // probing every 200 ms: QuorumLost held 200 ms, a replica's alert 400 ms
        let t0 = CaptureTimeline.epoch
        #expect(engine.evaluate(timeline.reports[167]!, now: t0).isEmpty)
        #expect(engine.nextTransitionAt == nil, "nothing pending, nothing kept")

        // Quorum lost at 0.3 s: pending until 0.5 s, the earliest of what is pending.
        #expect(engine.evaluate(timeline.reports[168]!, now: t0 + .milliseconds(300)).isEmpty)
        let quorum = try #require(engine.alerts.values.first { $0.name == .quorumLost })
        #expect(quorum.state == .pending)
        #expect(engine.nextTransitionAt == t0 + .milliseconds(500))
        let fired = engine.evaluate(timeline.reports[168]!, now: t0 + .milliseconds(500))
        #expect(fired.map(\.name).contains(.quorumLost))

        // Quorum back at 2 s: QuorumLost kept firing, due to resolve 10 s later.
        _ = engine.evaluate(timeline.reports[167]!, now: t0 + .seconds(2))
        #expect(engine.alerts.values.first { $0.name == .quorumLost }?.state == .firing)
        #expect(engine.nextTransitionAt == t0 + .seconds(12))
        let resolved = engine.evaluate(timeline.reports[167]!, now: t0 + .seconds(12))
        #expect(resolved.map(\.name) == [.quorumLost] && resolved.first?.state == .resolved)
        #expect(engine.nextTransitionAt == nil)
    }

    /// A replica's alert whose own hold has run out waits while its cluster's QuorumLost is pending, and is due when
    /// that is: QuorumLost `for: 3s` here, longer than the replicas' 400 ms. Both fire together at 3.3 s (the replica's
    /// then held back under QuorumLost by the planner, and by Alertmanager's inhibit rule).
    @Test func aReplicasAlertWaitsForItsClustersPendingQuorumVerdict() throws {
        let timeline = try CaptureTimeline()
        var rules = AlertRules()
        rules.settings[.viewChanged]?.enabled = false
        rules.settings[.quorumLost]?.forDuration = .seconds(3)
        var engine = AlertEngine(rules: rules)
        engine.minimumFor = .milliseconds(200)
        let t0 = CaptureTimeline.epoch
        _ = engine.evaluate(timeline.reports[167]!, now: t0)
        // 180 s: quorum lost; replicas 0 and 2 unreachable, replica 1 (left alone) flagged on StatsD.
        let lost = try #require(timeline.reports[180])
        #expect(lost.clusters[0].quorumLost)
        #expect(engine.evaluate(lost, now: t0 + .milliseconds(300)).isEmpty)
        let replicaAlerts = engine.alerts.values.filter { $0.name.isHeldBackByQuorumLost }
        #expect(!replicaAlerts.isEmpty)
        #expect(engine.evaluate(lost, now: t0 + .seconds(1)).isEmpty, "the replicas' 400 ms ran out; QuorumLost is pending")
        #expect(engine.alerts.values.allSatisfy { $0.state == .pending })
        #expect(engine.nextTransitionAt == t0 + .milliseconds(3300))
        let fired = engine.evaluate(lost, now: t0 + .milliseconds(3300))
        #expect(fired.first?.name == .quorumLost)
        #expect(Set(fired.map(\.fingerprint)) == Set(engine.alerts.values.filter { $0.state == .firing }.map(\.fingerprint)))
        // Unreachable has a `for` of its own (10 s): still pending. Every other replica's alert fired with QuorumLost.
        let ownHoldLeft = replicaAlerts.filter { $0.name == .replicaUnreachable }
        #expect(!ownHoldLeft.isEmpty && ownHoldLeft.count < replicaAlerts.count)
        #expect(fired.count == replicaAlerts.count - ownHoldLeft.count + 1)
    }
}
