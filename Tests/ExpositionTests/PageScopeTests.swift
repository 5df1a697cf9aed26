import MetricStore
import TestSupport
import Testing
import TigerBeetle

@testable import Exposition

/// A fleet's Prometheus scrapes one page per cluster and one for the rest: together exactly `/metrics`.
@Suite struct PageScopeTests {
    static let clusters = (1...3).map { String(repeating: "0", count: 31) + String($0) }

    static func fleetStore() -> MetricStore {
        var datagrams: [String] = []
        for cluster in clusters {
            for replica in 0..<3 {
                datagrams.append(
                    "tb.replica_commit_max:\(replica + 10)|g|#cluster:\(cluster),replica:\(replica)\n"
                        + "tb.requests_us.count:2|c|#cluster:\(cluster),replica:\(replica),operation:create_transfers\n"
                        + "tb.requests_us:7|ms|#cluster:\(cluster),replica:\(replica)")
            }
        }
        datagrams.append("app.hits:3|c|#route:/a\napp.hits:4|c\nother.cluster:1|g|#cluster:not-hex,x:\"q\\\\")
        return storeFed(datagrams)
    }

    static func sampleLines(_ page: [UInt8]) -> [String] {
        String(decoding: page, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    }

    @Test func theClusterPagesAndTheRestAreTheWholePageEachSampleOnOne() {
        let store = Self.fleetStore()
        let own = [
            StaticFamily(
                name: "tigerbeetle_replica_healthy", help: "h", type: .gauge,
                samples: Self.clusters.map { (LabelSet([("cluster", $0), ("replica", "0")]), 1) }),
            StaticFamily(name: "beetlewatch_up", help: "h", type: .gauge, value: 1),
        ]
        let whole = Self.sampleLines(MetricsPage.render(store: store, extra: own, now: .epoch))
        let values = store.clusterLabelValues(now: .epoch)
        #expect(values == Self.clusters)
        var parts: [String] = []
        for cluster in values {
            let lines = Self.sampleLines(MetricsPage.render(store: store, extra: own, now: .epoch, scope: .cluster(cluster)))
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { $0.contains("cluster=\"\(cluster)\"") }, "\(cluster): \(lines)")
            parts += lines
        }
        let rest = Self.sampleLines(MetricsPage.render(store: store, extra: own, now: .epoch, scope: .unclustered))
        #expect(rest.contains("beetlewatch_up 1"))
        #expect(rest.contains("app_hits{route=\"/a\"} 3"))
        #expect(rest.contains { $0.hasPrefix("other_cluster{cluster=\"not-hex\",x=\"\\\"q") }, "not TigerBeetle's: \(rest)")
        #expect(rest.allSatisfy { !$0.contains("cluster=\"0") })
        parts += rest
        #expect(parts.sorted() == whole.sorted())
        #expect(whole.filter { $0.hasPrefix("tigerbeetle_replica_commit_max{") }.count == 9)
    }

    @Test func aClusterPageKeepsFamilyAndLabelOrderAsTheWholePage() {
        let store = Self.fleetStore()
        let cluster = Self.clusters[1]
        let whole = Self.sampleLines(MetricsPage.render(store: store, extra: [], now: .epoch))
        let page = Self.sampleLines(MetricsPage.render(store: store, extra: [], now: .epoch, scope: .cluster(cluster)))
        #expect(page == whole.filter { $0.contains("cluster=\"\(cluster)\"") })
    }

    @Test func anUnknownOrExpiredClusterHasAnEmptyPage() {
        var store = MetricStore(options: .init(ttl: .seconds(10)))
        let cluster = Self.clusters[0]
        Array("tb.x:1|g|#cluster:\(cluster),replica:0".utf8).withUnsafeBytes { store.ingest(datagram: $0, now: .epoch) }
        #expect(!MetricsPage.render(store: store, extra: [], now: .seconds(5), scope: .cluster(cluster)).isEmpty)
        #expect(MetricsPage.render(store: store, extra: [], now: .seconds(5), scope: .cluster(Self.clusters[2])).isEmpty)
        #expect(MetricsPage.render(store: store, extra: [], now: .seconds(20), scope: .cluster(cluster)).isEmpty)
        #expect(store.clusterLabelValues(now: .seconds(20)).isEmpty)
    }

    /// Series are listed in the byte order of their rendered labels, as when each series held its label text: pair by
    /// pair, escapes, values that are another's start, and label lists that are another's start (`,` before `}`).
    @Test func seriesComeInTheByteOrderOfTheirRenderedLabels() {
        var random = SplitMix(state: 26)
        let values = ["", "a", "ab", "a\"b", "a\\\\", "b", "a,b", "é", "0"]
        var datagram = ""
        for _ in 0..<300 {
            var tags: [String] = []
            for name in ["a", "ab", "b"] where Bool.random(using: &random) {
                tags.append("\(name):\(values.randomElement(using: &random)!)")
            }
            datagram += "m:1|g" + (tags.isEmpty ? "" : "|#" + tags.joined(separator: ",")) + "\n"
        }
        let store = storeFed([datagram])
        var seen: [String] = []
        store.forEachFamily(now: .epoch) { family in family.forEachSeries { labels, _, _ in seen.append(labels.rendered) } }
        #expect(seen.count > 50)
        #expect(seen == seen.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(Set(seen).count == seen.count)
    }
}

/// SplitMix64: the same label sets every run.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
