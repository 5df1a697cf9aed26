import Foundation
import MetricStore
import TestSupport
import Testing
@testable import Health

/// The shared capture replayed through the pure model on a virtual clock, with
/// probe results derived from its events file.
struct CaptureTimeline {
    static let epoch: Int64 = 1_800_000_000_000_000_000
    static let cluster = String(repeating: "0", count: 32)
    static let watched = WatchedCluster(id: cluster, name: "0", addresses: ["127.0.0.1:3000", "127.0.0.1:3001", "127.0.0.1:3002"])

    /// Seconds → report, one a second from 0 to 242.
    var reports: [Int: HealthReport] = [:]

    /// When each replica's port refuses connections: from its kill until its restart.
    static func downIntervals(events: [(Double, String)]) -> [Int: [(Double, Double)]] {
        var down: [Int: [(Double, Double)]] = [:]
        var killedAt: [Int: Double] = [:]
        for (t, event) in events {
            let words = event.split(separator: " ")
            guard let replica = words.last.flatMap({ Int($0) }) else { continue }
            if event.hasPrefix("kill -9 replica") { killedAt[replica] = t }
            if event.hasPrefix("start replica"), let from = killedAt.removeValue(forKey: replica) {
                down[replica, default: []].append((from, t))
            }
        }
        for (replica, from) in killedAt { down[replica, default: []].append((from, .infinity)) }
        return down
    }

    init() throws {
        let capture = try SharedFixtures.capture()
        let eventsText = try String(contentsOf: SharedFixtures.url("tigerbeetle-3-replicas.events.jsonl"), encoding: .utf8)
        let events: [(Double, String)] = try eventsText.split(separator: "\n").map {
            let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            return ((object["t"] as! NSNumber).doubleValue, object["event"] as! String)
        }
        let down = Self.downIntervals(events: events)
        var store = MetricStore(options: .init())
        var probes: [ReplicaKey: ProbeResult] = [:]
        let policy = HealthPolicy(staleAfter: 25_000_000_000, startedAt: Self.epoch)
        var next = 0
        for second in 0...242 {
            let t = Double(second)
            while next < capture.count && capture[next].time <= t {
                let now = Self.epoch + Int64(capture[next].time * 1e9)
                Array(capture[next].text.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now) }
                next += 1
            }
            let now = Self.epoch + Int64(t * 1e9)
            if second % 2 == 0 {  // --probe.interval 2s
                for replica in 0..<3 {
                    let refused = down[replica, default: []].contains { t >= $0.0 && t < $0.1 }
                    probes[ReplicaKey(cluster: Self.cluster, replica: replica)] =
                        ProbeResult(success: !refused, durationSeconds: 0.0002, at: now, error: refused ? "connection refused" : nil)
                }
            }
            reports[second] = HealthEvaluator.evaluate(watched: [Self.watched], signals: store.signals, probes: probes, policy: policy, now: now)
        }
    }

    func replica(_ r: Int, at second: Int) -> ReplicaVerdict { reports[second]!.clusters[0].replicas[r] }
    func quorum(at second: Int) -> Bool? { reports[second]!.clusters[0].quorum }
    func has(_ state: ReplicaState, replica r: Int, at second: Int) -> Bool {
        replica(r, at: second).reasons.contains { $0.state == state }
    }
}

@Suite struct CaptureTimelineTests {
    let timeline: CaptureTimeline

    init() throws {
        timeline = try CaptureTimeline()
    }

    @Test func allHealthyAfterStartUp() {
        // Every replica has been probed and heard from by 12 s.
        for second in 12...80 {
            for r in 0..<3 { #expect(timeline.replica(r, at: second).healthy, "replica \(r) at \(second)s: \(timeline.replica(r, at: second).reasons)") }
            #expect(timeline.quorum(at: second) == true)
        }
        #expect(timeline.replica(1, at: 0).state == .unknown)
        #expect(timeline.quorum(at: 0) == false)
    }

    @Test func replicaOneUnreachableAndSilentFromItsKillUntilItsRestart() {
        // Killed at 81.1 s: the next probe (82 s) refuses, until the restart at 127.3 s.
        #expect(!timeline.has(.unreachable, replica: 1, at: 81))
        for second in 82...127 { #expect(timeline.has(.unreachable, replica: 1, at: second), "at \(second)s") }
        #expect(!timeline.has(.unreachable, replica: 1, at: 128))
        // Its last datagram was at 72.1 s: silent 25 s later, until it speaks again at 140.3 s.
        for second in 98...140 { #expect(timeline.has(.silent, replica: 1, at: second), "at \(second)s") }
        #expect(timeline.replica(1, at: 141).healthy)
        // The cluster kept its quorum with 2 of 3.
        for second in 82...166 { #expect(timeline.quorum(at: second) == true, "at \(second)s") }
    }

    @Test func quorumLossDetectedWithin15SecondsWhileReplicaOneStillSaysNormal() throws {
        let killed = 167.259
        let detected = try #require((167...200).first { timeline.quorum(at: $0) == false })
        #expect(Double(detected) - killed <= 15, "detected at \(detected)s")
        print("quorum loss at \(killed)s detected at \(detected)s: \(String(format: "%.1f", Double(detected) - killed))s later")
        for second in detected...202 { #expect(timeline.quorum(at: second) == false, "at \(second)s") }
        // The lone replica keeps reporting replica_status 0 ("normal") throughout...
        for second in [171, 180, 190, 200] {
            #expect(timeline.replica(1, at: second).status == 0)
            #expect(timeline.replica(1, at: second).secondsSinceSeen! < 25)
        }
        // ...but it says it reaches no peer replica: isolated from its 170.5 s sample on.
        for second in 171...202 { #expect(timeline.has(.isolated, replica: 1, at: second), "at \(second)s") }
    }

    @Test func quorumBackAfterTheRestart() throws {
        let back = try #require((203...242).first { timeline.quorum(at: $0) == true })
        // Replicas 0 and 2 restart at 202.3 s and first report at 215.4 s.
        #expect(back <= 217, "quorum back at \(back)s")
        print("replicas 0 and 2 restarted at 202.3s; quorum back at \(back)s")
        for second in back...242 { #expect(timeline.quorum(at: second) == true) }
    }

    @Test func viewChangesCounted() {
        let cluster = timeline.reports[242]!.clusters[0]
        #expect(cluster.viewChanges == 2)
        #expect(cluster.highestView == 3)
        #expect(timeline.reports[80]!.clusters[0].viewChanges == 0)
    }
}
