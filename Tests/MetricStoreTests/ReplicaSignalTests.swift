import StatsD
import TestSupport
import Testing
import TigerBeetle

@testable import MetricStore

/// What TigerBeetle lines may do to the health model: values it could not have sent are counted and
/// ignored, forged cluster tags stay ordinary metrics, and clusters nobody configured are bounded.
@Suite struct ReplicaSignalTests {
    static let cluster = "000000000000000000000000000000ab"

    static func clusterID(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
    }

    /// Each value that once crashed the agent (a Double → Int or UInt64 conversion trapping) is refused
    /// and counted; the last valid value stays.
    @Test(arguments: [
        ("tb.replica_status:10000000000000000000|g", ReplicaSignal.status, InvalidSignalReason.outOfRange),
        ("tb.replica_status:-1e19|g", .status, .outOfRange),
        ("tb.replica_status:1.5|g", .status, .notInteger),
        ("tb.replica_view:1e20|g", .view, .outOfRange),
        ("tb.replica_view:-1|g", .view, .outOfRange),
        ("tb.message_bus_connections:1e19|g", .peerReplicaConnections, .outOfRange),
        ("tb.replica_sync_stage:256|g", .syncStage, .outOfRange),
        ("tb.journal_faulty:1e300|g", .journalFaulty, .outOfRange),
        ("tb.grid_blocks_missing:-3|g", .gridBlocksMissing, .outOfRange),
        ("tb.replica_commit_max:18446744073709551616|g", .commitMax, .outOfRange),
        ("tb.clock_delta_ns:1e300|g", .clockDeltaNanoseconds, .outOfRange),
    ])
    func anImpossibleValueIsCountedAndIgnored(_ line: String, _ signal: ReplicaSignal, _ reason: InvalidSignalReason) throws {
        var h = StoreHarness()
        let tags = "|#cluster:\(Self.cluster),replica:0" + (signal == .peerReplicaConnections ? ",peer:replica" : "")
        let name = line.prefix { $0 != ":" }
        h.send("\(name):1|g\(tags)", at: .seconds(1))
        h.send(line + tags, at: .seconds(2))
        let signals = try #require(h.store.signals.signals(of: ReplicaKey(cluster: Self.cluster, replica: 0)))
        #expect(signals[signal] == 1)
        // No word from the replica: a forged line does not keep a silent replica's last values fresh.
        #expect(signals.lastSeen == .seconds(1))
        #expect(signals.valuesAt[signal.rawValue] == .seconds(1))
        #expect(h.store.signals.invalidCount(signal, reason) == 1)
    }

    /// StatsD loses datagrams one by one: a value is judged only while it is itself fresh, whatever else came since.
    @Test func aValueOlderThanStaleAfterIsNotJudgedThoughOtherLinesCame() throws {
        var h = StoreHarness()
        let tags = "|#cluster:\(Self.cluster),replica:0"
        h.send("tb.replica_sync_stage:2|g\(tags)", at: .seconds(1))
        h.send("tb.replica_status:0|g\(tags)", at: .seconds(30))
        let signals = try #require(h.store.signals.signals(of: ReplicaKey(cluster: Self.cluster, replica: 0)))
        let judged = signals.judged(now: .seconds(30), staleAfter: .seconds(25))
        #expect(judged.lastSeen == .seconds(30))
        #expect(judged[.status] == 0)
        #expect(judged[.syncStage] == nil, "heard 29 s ago")
        #expect(signals.judged(now: .seconds(26), staleAfter: .seconds(25))[.syncStage] == 2)
    }

    @Test func everyValidRangeHoldsOnlyValuesItsReadersConvert() {
        for signal in ReplicaSignal.allCases {
            let range = signal.validRange
            #expect(Int(exactly: range.lowerBound) != nil && Int(exactly: range.upperBound) != nil, "\(signal)")
            #expect(signal.invalidity(of: range.upperBound) == nil)
            #expect(signal.invalidity(of: range.upperBound.nextUp) == .outOfRange)
            #expect(signal.invalidity(of: .nan) == .outOfRange)
        }
    }

    @Test func viewChangesCountRisesWithoutOverflow() {
        var h = StoreHarness()
        let tags = "|#cluster:\(Self.cluster),replica:0"
        h.send("tb.replica_view:1|g\(tags)\ntb.replica_view:4294967295|g\(tags)\ntb.replica_view:1e20|g\(tags)")
        #expect(h.store.signals.clusters[Self.cluster]?.viewChanges == 4_294_967_294)
        #expect(h.store.signals.clusters[Self.cluster]?.highestView == 4_294_967_295)
    }

    /// `cluster:fake1` once paged critical and left an alert firing for good: now the line is an ordinary
    /// metric, counted, and no replica is tracked.
    @Test(arguments: [
        ("cluster:fake1,replica:0", ReplicaLineIgnored.invalidClusterTag),
        ("cluster:000000000000000000000000000000AB,replica:0", .invalidClusterTag),
        ("cluster:0000000000000000000000000000000ab,replica:0", .invalidClusterTag),
        ("cluster:\(cluster),replica:256", .invalidReplicaTag),
        ("cluster:\(cluster),replica:-1", .invalidReplicaTag),
        ("cluster:\(cluster),replica:1e2", .invalidReplicaTag),
    ])
    func aTagTigerBeetleWouldNotSendLeavesAnOrdinaryMetric(_ tags: String, _ reason: ReplicaLineIgnored) {
        var h = StoreHarness()
        h.send("tb.replica_status:1|g|#\(tags)\ntb.replica_status:1|g|#\(tags)")
        #expect(h.store.signals.keys.isEmpty)
        #expect(h.store.stats.replicaLinesIgnored(reason) == 2)
        #expect(h.store.stats.lines == 2)
        #expect(h.samples().keys.contains { $0.hasPrefix("tigerbeetle_replica_status{") })
    }

    /// 15,000 forged clusters: 16 tracked, the rest counted; memory of them goes with the TTL.
    @Test func unwatchedClustersAreCappedAndExpire() {
        let ttl = Duration.seconds(3)
        var h = StoreHarness(.init(ttl: ttl, maxSeries: 1000, watchedClusters: [Self.cluster], maxUnwatchedClusters: 16))
        for n in 1...15_000 {
            h.send("tb.replica_status:1|g|#cluster:\(Self.clusterID(n + 1000)),replica:0", at: .seconds(1))
        }
        #expect(h.store.signals.unwatchedClusterCount == 16)
        #expect(h.store.signals.keys.count == 16)
        // Counted whether or not the series limit left room for the line's series.
        #expect(h.store.stats.replicaLinesIgnored(.unwatchedClusterLimit) == 15_000 - 16)
        #expect(h.store.seriesCount == 1000)
        #expect(h.store.stats.seriesRefused == 14_000)
        // A watched cluster is always tracked, whatever the flood, even with no room for its series.
        h.send("tb.replica_status:0|g|#cluster:\(Self.cluster),replica:2", at: .seconds(2))
        #expect(h.store.signals.signals(of: ReplicaKey(cluster: Self.cluster, replica: 2))?.lastSeen == .seconds(2))
        // Past the TTL the forged clusters and their series go; the watched replica stays.
        let generation = h.store.signals.generation
        h.store.expire(now: .seconds(1) + ttl + .nanoseconds(1))
        #expect(h.store.signals.unwatchedClusterCount == 0)
        #expect(h.store.signals.keys == [ReplicaKey(cluster: Self.cluster, replica: 2)])
        #expect(h.store.signals.generation != generation)
        #expect(h.store.lineCacheCount == 0)
        // Room again: a new unwatched cluster is tracked, in a slot the cache must not confuse.
        h.send("tb.replica_view:7|g|#cluster:\(Self.clusterID(99)),replica:1", at: .seconds(5))
        h.send("tb.replica_status:3|g|#cluster:\(Self.cluster),replica:2", at: .seconds(5))
        #expect(h.store.signals.signals(of: ReplicaKey(cluster: Self.clusterID(99), replica: 1))?[.view] == 7)
        #expect(h.store.signals.signals(of: ReplicaKey(cluster: Self.cluster, replica: 2))?[.status] == 3)
        #expect(h.store.signals.signals(of: ReplicaKey(cluster: Self.cluster, replica: 2))?[.view] == nil)
    }

    /// A cluster refused at the limit is taken once a reload watches it.
    @Test func watchingAClusterTakesItsLinesAgain() {
        var h = StoreHarness(.init(maxUnwatchedClusters: 0))
        let line = "tb.replica_status:0|g|#cluster:\(Self.cluster),replica:0"
        h.send(line)
        #expect(h.store.signals.keys.isEmpty)
        h.store.watch(clusters: [Self.cluster], maxUnwatchedClusters: 0)
        h.send(line, at: .seconds(5))
        #expect(h.store.signals.signals(of: ReplicaKey(cluster: Self.cluster, replica: 0))?.lastSeen == .seconds(5))
        // And unwatching it again over the limit forgets it.
        h.store.watch(clusters: [], maxUnwatchedClusters: 0)
        #expect(h.store.signals.keys.isEmpty)
    }
}
