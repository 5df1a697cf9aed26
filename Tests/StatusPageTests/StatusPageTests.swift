import Alerting
import Foundation
import TestSupport
import Testing

@testable import Health
@testable import StatusPage

@Suite struct VerdictHistoryTests {
    /// The recorded capture on its virtual clock: replica 1 killed at 81.1 s is unreachable from 82 s, replicas 0 and 2
    /// killed at ~168 s; each change is one event, with its reasons.
    @Test func theCapturesChangesAreItsEvents() throws {
        let timeline = try CaptureTimeline()
        var history = VerdictHistory()
        for second in 0...242 { history.record(timeline.reports[second]!) }
        let replica1 = history.events.filter { $0.replica == 1 }
        let down = try #require(replica1.first { $0.to == .unreachable })
        #expect(down.at == CaptureTimeline.epoch.unixSeconds + 82)
        #expect(down.reasons.first?.contains("127.0.0.1:3001") == true)
        // Each event is a change: no two in a row for a replica with the same state.
        for replica in 0..<3 {
            let states = history.events.filter { $0.replica == replica }.map(\.to)
            #expect(zip(states, states.dropFirst()).allSatisfy { $0 != $1 })
        }
        // The timeline holds the window only: 15 minutes is the whole capture here.
        let key = VerdictHistory.Key(cluster: CaptureTimeline.cluster, replica: 1)
        #expect(history.timelines[key]?.first?.state == history.events.first { $0.replica == 1 }?.to)
    }

    @Test func boundedWhateverTheInput() {
        var history = VerdictHistory(window: 60)
        for second in 0..<2_000 {
            let state: ReplicaState = second % 2 == 0 ? .healthy : .unreachable
            history.record(report(at: Double(second), states: [state]))
        }
        #expect(history.events.count == VerdictHistory.maxEvents)
        #expect(history.events.last?.at == 1_999)
        // Only the segments of the last minute (and the one it starts in).
        #expect((history.timelines.first?.value.count ?? 0) <= 62)
        // A longer window is still capped: a replica flapping every second keeps maxSegments.
        var long = VerdictHistory(window: 3_600)
        for second in 0..<2_000 { long.record(report(at: Double(second), states: [second % 2 == 0 ? .healthy : .hung])) }
        #expect(long.timelines.first?.value.count == VerdictHistory.maxSegments)
        // A replica gone from the model is forgotten.
        history.record(HealthReport(generatedAt: 2_000, clusters: []))
        #expect(history.timelines.isEmpty)
    }
}

@Suite struct StatusPageTests {
    /// At 100 s of the capture: replica 1 is unreachable, the page says so with its reason, shows the change, draws
    /// each replica's timeline, and reloads itself.
    @Test func showsWhatAPersonNeedsToSee() throws {
        let timeline = try CaptureTimeline()
        var history = VerdictHistory()
        for second in 0...100 { history.record(timeline.reports[second]!) }
        let report = timeline.reports[100]!
        let status = StatusDocument(ready: Readiness.evaluate(report, require: .quorum), health: report)
        let page = StatusPage.render(status: status, alerts: [], history: history, version: "beetlewatch test")
        #expect(page.hasPrefix("<!doctype html>"))
        #expect(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
        #expect(page.contains("<span class=\"state unreachable\">unreachable</span>"))
        #expect(page.contains("TCP connect to 127.0.0.1:3001 failed"))
        #expect(page.contains("→ <span class=\"state unreachable\">unreachable</span>"), "the change is listed")
        #expect(page.components(separatedBy: "<svg class=\"timeline\"").count == 4, "one timeline per replica")
        #expect(!page.contains("<script"), "no script")
        #expect(!page.contains("http://") && !page.contains("https://"), "no external asset")
    }

    /// StatsD tags, probe errors and alert labels are anyone's text: all of it is escaped.
    @Test func escapesEverythingFromTheModel() {
        var replica = ReplicaVerdict(
            cluster: "c", replica: 0, address: "<img src=x onerror=alert(1)>", state: .unreachable, healthy: false,
            reasons: [Reason(.unreachable, "\"><script>alert(2)</script>")], lastSeen: nil, secondsSinceSeen: nil,
            probe: nil, status: nil, statusName: nil, syncStage: nil, peerReplicaConnections: nil, view: nil,
            pongView: nil, commitMax: nil, release: "0.17.9'<b>", fresh: false, journalFaulty: nil,
            gridBlocksMissing: nil, clockDeltaSeconds: nil)
        replica.release = "0.17.9'<b>"
        let cluster = ClusterVerdict(
            id: "c", name: "<i>x</i>", watched: true, replicaCount: 1, healthyReplicas: 0, quorumSize: 1, quorum: false,
            quorumLost: true, highestView: nil, viewChanges: 0, releases: [], notes: ["<u>note</u>"], replicas: [replica],
            summary: "NO QUORUM")
        let report = HealthReport(generatedAt: 1_800_000_000, clusters: [cluster])
        let alert = Alert(
            name: .replicaStatusAbnormal,
            labels: [
                "alertname": "TigerBeetleReplicaStatusAbnormal", "cluster": "c", "replica": "0",
                "severity": "critical", "status": "<marquee>",
            ],
            annotations: ["summary": "<blink>"], state: .firing, activeAt: .epoch, firedAt: .epoch)
        let page = StatusPage.render(
            status: StatusDocument(ready: Readiness.evaluate(report, require: .quorum), health: report),
            alerts: [alert], history: VerdictHistory(), version: "<v>")
        for raw in ["<img", "<script", "<i>", "<u>", "<b>", "<marquee", "<blink", "<v>"] {
            #expect(!page.contains(raw), "\(raw) unescaped")
        }
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(page.contains("0.17.9&#39;&lt;b&gt;"))
    }

    /// 100 clusters of 3 replicas, each with a changing 15-minute timeline: the page's size (rendering time is in
    /// `beetlewatch-bench`'s spirit, measured by hand and reported in the notes).
    @Test func aHundredClustersMakeAPageOfBoundedSize() {
        var history = VerdictHistory()
        for second in stride(from: 0.0, through: 900, by: 30) {
            history.record(
                report(
                    at: second, clusters: 100,
                    states: [.healthy, second.truncatingRemainder(dividingBy: 60) == 0 ? .healthy : .hung, .healthy]))
        }
        let last = report(at: 900, clusters: 100, states: [.healthy, .hung, .healthy])
        let clock = ContinuousClock()
        var page = ""
        let elapsed = clock.measure {
            page = StatusPage.render(
                status: StatusDocument(ready: Readiness.evaluate(last, require: .quorum), health: last),
                alerts: [], history: history, version: "test")
        }
        print("status page: 100 clusters, \(page.utf8.count) bytes, rendered in \(elapsed)")
        #expect(page.utf8.count < 4 << 20)
        #expect(page.components(separatedBy: "<section class=\"cluster\"").count == 101)
    }
}

func report(at second: Double, clusters: Int = 1, states: [ReplicaState]) -> HealthReport {
    HealthReport(
        generatedAt: second,
        clusters: (0..<clusters).map { c in
            let id = String(repeating: "0", count: 29) + String(format: "%03d", c)
            return ClusterVerdict(
                id: id, name: "\(c)", watched: true, replicaCount: states.count, healthyReplicas: states.filter { $0 == .healthy }.count,
                quorumSize: states.count / 2 + 1, quorum: true, quorumLost: false, highestView: 3, viewChanges: 0, releases: ["0.17.9"],
                notes: [],
                replicas: states.enumerated().map { r, state in
                    ReplicaVerdict(
                        cluster: id, replica: r, address: "10.0.0.\(r):3000", state: state, healthy: state == .healthy,
                        reasons: state == .healthy ? [] : [Reason(state, "\(state)")], lastSeen: second, secondsSinceSeen: 1,
                        probe: nil, status: 0, statusName: "normal", syncStage: 0, peerReplicaConnections: 2, view: 3,
                        pongView: 3, commitMax: 1000, release: "0.17.9", fresh: true, journalFaulty: 0,
                        gridBlocksMissing: 0, clockDeltaSeconds: 0)
                },
                summary: "quorum")
        })
}
