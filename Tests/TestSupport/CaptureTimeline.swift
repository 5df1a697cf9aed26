import Foundation
import Health
import MetricStore
import TigerBeetle

/// The recorded capture replayed through the pure model on a virtual clock, with
/// probe results derived from its events file.
public struct CaptureTimeline {
    public static let epoch = WallInstant.seconds(1_800_000_000)
    public static let cluster = String(repeating: "0", count: 32)
    public static let watched = WatchedCluster(id: cluster, name: "0", addresses: ["127.0.0.1:3000", "127.0.0.1:3001", "127.0.0.1:3002"])

    /// Seconds → report, one a second from 0 to 242.
    public var reports: [Int: HealthReport] = [:]

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

    public init() throws {
        let capture = try Fixtures.capture()
        let eventsText = try String(contentsOf: Fixtures.url("tigerbeetle-3-replicas.events.jsonl"), encoding: .utf8)
        let events: [(Double, String)] = try eventsText.split(separator: "\n").map {
            let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            return ((object["t"] as! NSNumber).doubleValue, object["event"] as! String)
        }
        let down = Self.downIntervals(events: events)
        var store = MetricStore(options: .init())
        var probes: [ReplicaKey: ProbeResult] = [:]
        // Probed every 2 s with a 1 s timeout, as the capture's agent was.
        let policy = HealthPolicy(staleAfter: .seconds(25), startedAt: Self.epoch, probeResultTTL: .seconds(3))
        var next = 0
        for second in 0...242 {
            let t = Double(second)
            while next < capture.count && capture[next].time <= t {
                let now = Self.epoch + .nanoseconds(Int64(capture[next].time * 1e9))
                Array(capture[next].text.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now) }
                next += 1
            }
            let now = Self.epoch + .nanoseconds(Int64(t * 1e9))
            if second % 2 == 0 {  // --probe.interval 2s
                for replica in 0..<3 {
                    let refused = down[replica, default: []].contains { t >= $0.0 && t < $0.1 }
                    let key = ReplicaKey(cluster: Self.cluster, replica: replica)
                    probes[key] = ProbeResult(
                        success: !refused, durationSeconds: 0.0002, at: now, error: refused ? "connection refused" : nil,
                        reachableSince: probes[key]?.reachableSince ?? now)
                }
            }
            reports[second] = HealthEvaluator.evaluate(
                watched: [Self.watched], signals: store.signals, probes: probes, policy: policy, now: now)
        }
    }

    public func replica(_ r: Int, at second: Int) -> ReplicaVerdict { reports[second]!.clusters[0].replicas[r] }
    public func quorum(at second: Int) -> Bool? { reports[second]!.clusters[0].quorum }
    public func has(_ state: ReplicaState, replica r: Int, at second: Int) -> Bool {
        replica(r, at: second).reasons.contains { $0.state == state }
    }
}
