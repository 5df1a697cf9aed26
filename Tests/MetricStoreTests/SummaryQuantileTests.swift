import TestSupport
import Testing
import TigerBeetle

@testable import MetricStore

private let minute = Duration.seconds(60)

/// statsd_exporter's summaries: quantiles 0.5/0.9/0.99 within client_golang's rank errors (5%, 1%, 0.1%), over a
/// window of the last 8 to 10 minutes (five 2-minute age buckets), in bounded memory (samples per stream and series
/// keeping quantiles both capped).
@Suite struct SummaryQuantileTests {
    /// 100,000 distinct values in a scrambled order, merged 500 at a time: each quantile's rank is within its
    /// target's error, and the stream keeps a small fraction of the observations.
    @Test func eachQuantileIsWithinItsRankError() {
        let n = 100_000
        // A permutation of 1...n (multiplying by a number coprime to n).
        let values = (0..<n).map { Double(($0 * 7_919) % n + 1) }
        var stream = QuantileStream(targets: QuantileStream.statsdExporterTargets)
        for start in stride(from: 0, to: n, by: 500) {
            stream.merge(sorted: values[start..<min(n, start + 500)].sorted().map { ($0, 1) })
        }
        #expect(stream.count == Double(n))
        for target in QuantileStream.statsdExporterTargets {
            // A value's rank is the value itself.
            let rank = stream.query(target.quantile)
            #expect(abs(rank - target.quantile * Double(n)) <= target.epsilon * Double(n), "q \(target.quantile): \(rank)")
        }
        #expect(stream.samples.count < 1_000, "\(stream.samples.count) samples kept")
    }

    /// 300 × 10 at 0 min and 100 × 20 at 5 min: both count at 9 min; at 11 min the head stream started at 2 min and
    /// holds only the 20s; at 16 min nothing is younger than its stream's start: no value (NaN), as client_golang.
    @Test func oldObservationsLeaveTheWindowOnTheClock() {
        var window = SummaryWindow(now: .epoch)
        for _ in 0..<300 { window.observe(10, now: .epoch) }
        for _ in 0..<100 { window.observe(20, now: .epoch + minute * 5) }
        #expect(window.values(now: .epoch + minute * 9) == [10, 20, 20])
        #expect(window.values(now: .epoch + minute * 11) == [20, 20, 20])
        #expect(window.values(now: .epoch + minute * 13) == [20, 20, 20])
        #expect(window.values(now: .epoch + minute * 16).allSatisfy { $0.isNaN })
        // The same after the rotations happen (an observation at 16 min starts afresh).
        window.observe(30, now: .epoch + minute * 16)
        #expect(window.values(now: .epoch + minute * 16) == [30, 30, 30])
    }

    @Test func aWindowSilentForLongerThanMaxAgeIsEmpty() {
        var window = SummaryWindow(now: .epoch)
        window.observe(1, now: .epoch)
        #expect(window.values(now: .epoch + minute * 30).allSatisfy { $0.isNaN })
        window.observe(2, now: .epoch + minute * 30)
        #expect(window.values(now: .epoch + minute * 31) == [2, 2, 2])
    }

    /// Memory stays bounded however many observations come: 200,000 observations of 1,000 distinct values over 3 minutes.
    @Test func aBusyWindowStaysSmall() {
        var window = SummaryWindow(now: .epoch)
        for i in 0..<200_000 { window.observe(Double(i % 1_000), now: .milliseconds(i)) }
        #expect(window.heldSamples < 5 * 1_000, "\(window.heldSamples) samples held")
    }

    /// Values in descending order escape CKMS's compression (24,773 samples after 1M): the stream stays within its cap
    /// and pays in precision (the median 13.6% of rank off here, against 5% for any other order): memory first, since
    /// any sender can choose the order.
    @Test func descendingValuesStayWithinTheCap() {
        let n = 200_000
        var stream = QuantileStream(targets: QuantileStream.statsdExporterTargets)
        for start in stride(from: 0, to: n, by: 500) {
            stream.merge(sorted: (start..<(start + 500)).map { Double(n - $0) }.sorted().map { ($0, 1) })
        }
        #expect(stream.samples.count <= QuantileStream.maxSamples)
        #expect(abs(stream.query(0.5) - 0.5 * Double(n)) <= 0.15 * Double(n), "median \(stream.query(0.5))")
    }

    /// Past `maxSummaryWindows` series, a timer keeps `_sum` and `_count` and its values are counted as dropped.
    @Test func quantilesAreKeptForAtMostTheirSeriesCap() {
        var h = StoreHarness(MetricStore.Options(maxSeries: 20_000))
        let lines = (0...MetricStore.maxSummaryWindows).map { "t:5|ms|#i:\($0)" }
        for chunk in stride(from: 0, to: lines.count, by: 20) {
            h.send(lines[chunk..<min(lines.count, chunk + 20)].joined(separator: "\n"))
        }
        var withQuantiles = 0
        var without = 0
        h.store.forEachFamily(now: .epoch) { family in
            family.forEachSummary { _, _, _, quantiles in if quantiles == nil { without += 1 } else { withQuantiles += 1 } }
        }
        #expect(withQuantiles == MetricStore.maxSummaryWindows)
        #expect(without == 1)
        #expect(h.store.stats.quantilesDropped == 1)
        #expect(h.store.stats.lines == UInt64(lines.count))
    }

    /// Timers in the store: quantiles in seconds (`ms` ÷ 1000), each value counted once (the count, ⌊1/rate⌋ times);
    /// TigerBeetle's pre-aggregated timings have none.
    @Test func aTimersQuantilesAreInTheStore() {
        var h = StoreHarness()
        h.send("t:100|ms\nt:100|ms\nt:300|ms|@0.5\ntb.replica_commit_us.sum:5|c|#cluster:\(String(repeating: "0", count: 32)),replica:0")
        var quantiles: [String: [Double]?] = [:]
        h.store.forEachFamily(now: .epoch) { family in
            guard family.type == .summary else { return }
            family.forEachSummary { labels, _, _, values in quantiles[family.name + labels.rendered] = values }
        }
        #expect(quantiles["t"] == [0.1, 0.3, 0.3])
        let timing = quantiles.first { $0.key.hasPrefix("tigerbeetle_replica_commit_seconds") }
        #expect(timing != nil)
        #expect(timing?.value == nil)
        #expect(h.samples()["t_count"] == 4)
    }
}
