import StatsD
import TestSupport
import Testing
import TigerBeetle

@testable import MetricStore

/// Feeds datagrams to a store and reads back `name{labels}` → value, like a scrape.
struct StoreHarness {
    var store: MetricStore

    init(_ options: MetricStore.Options = .init()) {
        store = MetricStore(options: options)
    }

    mutating func send(_ datagram: String, at now: WallInstant = .epoch) {
        Array(datagram.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now) }
    }

    func samples(at now: WallInstant = .epoch) -> [String: Double] {
        var out: [String: Double] = [:]
        store.forEachFamily(now: now) { family in
            family.forEachSeries { series, value, count in
                let labels = series.rendered
                if family.type == .summary {
                    out[family.name + "_sum" + labels] = value
                    out[family.name + "_count" + labels] = count
                } else {
                    out[family.name + labels] = value
                }
            }
        }
        return out
    }
}

@Suite struct MetricStoreTests {
    @Test func countersSumAndScaleBySampleRate() {
        var h = StoreHarness()
        h.send("hits:1|c\nhits:2|c\nhits:1|c|@0.1")
        #expect(h.samples() == ["hits": 13])
    }

    @Test func gaugesInStatsdModeTreatSignsAsDeltas() {
        var h = StoreHarness(.init(mode: .statsdExporter))
        h.send("g:10|g\ng:+5|g\ng:-3|g")
        #expect(h.samples() == ["g": 12])
        h.send("g:7|g")
        #expect(h.samples() == ["g": 7])
    }

    @Test func tigerBeetleGaugesAreAbsoluteEvenWhenNegative() {
        var h = StoreHarness()
        h.send("tb.clock_delta_ns:-2000|g|#replica:0\ntb.clock_delta_ns:-3000|g|#replica:0")
        #expect(h.samples() == ["tigerbeetle_clock_delta_seconds{replica=\"0\"}": -3e-6])
    }

    @Test func timersBecomeSummariesInSeconds() {
        var h = StoreHarness()
        h.send("api.t:100|ms\napi.t:300|ms\napi.t:50|ms|@0.5\napi.h:2|h")
        let samples = h.samples()
        #expect(PrometheusText.close(samples["api_t_sum"]!, 0.1 + 0.3 + 0.05 * 2))
        #expect(samples["api_t_count"] == 4)
        #expect(samples["api_h_sum"] == 2)
        #expect(samples["api_h_count"] == 1)
    }

    @Test func multiValueLinesApplyEveryValue() {
        var h = StoreHarness()
        h.send("d:1:2:3|d\nc:1:2|c")
        #expect(h.samples() == ["d_sum": 6, "d_count": 3, "c": 3])
    }

    @Test func tigerBeetleTimingsFormOneSummary() {
        var h = StoreHarness()
        h.send("tb.grid_read_us.sum:1500|c|#replica:0\ntb.grid_read_us.count:3|c|#replica:0\ntb.grid_read_us.max:900|g|#replica:0")
        h.send("tb.grid_read_us.sum:500|c|#replica:0\ntb.grid_read_us.count:1|c|#replica:0")
        let samples = h.samples()
        #expect(PrometheusText.close(samples["tigerbeetle_grid_read_seconds_sum{replica=\"0\"}"]!, 0.002))
        #expect(samples["tigerbeetle_grid_read_seconds_count{replica=\"0\"}"] == 4)
        #expect(PrometheusText.close(samples["tigerbeetle_grid_read_seconds_max{replica=\"0\"}"]!, 0.0009))
    }

    /// Sums add up in TigerBeetle's integer µs and are divided once when read: 100,000 µs + 200,000 µs is 0.3 s,
    /// where adding 0.1 and 0.2 gives 0.30000000000000004. A timing's gauges and a ns timestamp beyond 2^53 are one
    /// correctly rounded division each (the timestamp read again from its digits: the parsed double is already rounded).
    @Test func tigerBeetleUnitsAreConvertedOnceAndExactly() {
        var h = StoreHarness()
        h.send("tb.grid_read_us.sum:100000|c|#replica:0\ntb.grid_read_us.count:1|c|#replica:0")
        h.send("tb.grid_read_us.sum:200000|c|#replica:0\ntb.grid_read_us.count:1|c|#replica:0")
        h.send("tb.replica_start:1795731694516512653|g|#replica:0\ntb.clock_delta_ns:-9007199254740993|g|#replica:0")
        h.send("tb.grid_read_us.avg:1329|g|#replica:0")
        let samples = h.samples()
        #expect(samples["tigerbeetle_grid_read_seconds_sum{replica=\"0\"}"] == 0.3)
        #expect(samples["tigerbeetle_grid_read_seconds_count{replica=\"0\"}"] == 2)
        #expect(samples["tigerbeetle_grid_read_seconds_avg{replica=\"0\"}"] == 0.001329)
        #expect(samples["tigerbeetle_replica_start_timestamp_seconds{replica=\"0\"}"] == Double("1795731694.516512653"))
        #expect(samples["tigerbeetle_replica_start_timestamp_seconds{replica=\"0\"}"] != 1_795_731_694_516_512_653 / 1e9)
        #expect(samples["tigerbeetle_clock_delta_seconds{replica=\"0\"}"] == Double("-9007199.254740993"))
    }

    /// A timer (ms, converted one observation at a time) and a histogram of one name share its summary, as in
    /// statsd_exporter; TigerBeetle's µs gauges and ns gauges of one family are each converted as they arrive.
    @Test func familiesOfConvertedValuesStillMix() {
        var h = StoreHarness()
        h.send("lag:250|ms\nlag:2|h\ntb.wait_us:1500|g\ntb.wait_ns:2500|g")
        let samples = h.samples()
        #expect(h.store.stats.typeConflicts == 0)
        #expect(samples["lag_sum"] == 2.25)
        #expect(samples["lag_count"] == 2)
        #expect(samples["tigerbeetle_wait_seconds"] == 2.5e-6)
    }

    @Test func setsCountDistinctMembers() {
        var h = StoreHarness()
        h.send("u:alice|s\nu:bob|s\nu:alice|s")
        #expect(h.samples() == ["u": 2])
    }

    @Test func tagsBecomeSortedSanitisedLabels() {
        var h = StoreHarness()
        h.send("m:1|g|#z:1,a.b:2,novalue,empty:,:nokey")
        #expect(h.samples() == ["m{a_b=\"2\",z=\"1\"}": 1])
        #expect(h.store.stats.tagsDropped == 2)
    }

    @Test func tagOrderDoesNotSplitASeries() {
        var h = StoreHarness()
        h.send("m:1|c|#a:1,b:2\nm:2|c|#b:2,a:1")
        #expect(h.samples() == ["m{a=\"1\",b=\"2\"}": 3])
    }

    @Test func labelValuesAreEscaped() {
        var h = StoreHarness()
        h.send("m:1|g|#path:C:\\dir,q:say \"hi\"")
        #expect(h.samples() == ["m{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\"}": 1])
    }

    @Test func aMalformedLineDoesNotPoisonItsNeighbours() {
        var h = StoreHarness()
        h.send("a:1|c\nbad line\nb:NaN|g\nc:2|g\n\u{0}\n:1|c\nd:1|c|@2")
        #expect(h.samples() == ["a": 1, "c": 2])
        #expect(h.store.stats.parseErrors(.malformedLine) == 1)
        #expect(h.store.stats.parseErrors(.invalidValue) == 1)
        #expect(h.store.stats.parseErrors(.controlCharacter) == 1)
        #expect(h.store.stats.parseErrors(.emptyName) == 1)
        #expect(h.store.stats.parseErrors(.invalidSampleRate) == 1)
        #expect(h.store.stats.lines == 2)
    }

    @Test func aNameSeenWithTwoTypesKeepsTheFirst() {
        var h = StoreHarness()
        h.send("x:1|c\nx:5|g\nx:1|c")
        #expect(h.samples() == ["x": 2])
        #expect(h.store.stats.typeConflicts == 1)
    }

    @Test func summarySuffixesCannotBeReusedByOtherFamilies() {
        var h = StoreHarness()
        h.send("lat:1|h\nlat.count:1|c\nlat_sum:2|g")
        #expect(h.samples() == ["lat_sum": 1, "lat_count": 1])
        #expect(h.store.stats.typeConflicts == 2)
    }

    @Test func reservedNamesAreRefused() {
        var h = StoreHarness(.init(reservedNames: ["beetlewatch_statsd_lines_total"]))
        h.send("beetlewatch.statsd.lines.total:1|c\nok:1|c")
        #expect(h.samples() == ["ok": 1])
        #expect(h.store.stats.typeConflicts == 1)
    }

    @Test func tooManyTagsIsRejected() {
        var h = StoreHarness(.init(tagLimits: .init(maxTags: 3)))
        h.send("m:1|c|#a:1,b:2,c:3,d:4\nm:1|c|#a:1")
        #expect(h.samples() == ["m{a=\"1\"}": 1])
        #expect(h.store.stats.parseErrors(.tooManyTags) == 1)
    }

    @Test func seriesDisappearAfterTheTTL() {
        var h = StoreHarness(.init(ttl: .seconds(120)))
        h.send("old:1|g\nkept:1|g", at: .epoch)
        h.send("kept:2|g", at: .seconds(100))
        #expect(h.samples(at: .seconds(121)) == ["kept": 2])
        #expect(h.store.expire(now: .seconds(121)) == 1)
        #expect(h.store.seriesCount == 1)
        #expect(h.store.stats.seriesExpired == 1)
        // Its name is free again, and the cache was rebuilt: new lines land correctly.
        h.send("old:5|c\nkept:3|g", at: .seconds(122))
        #expect(h.samples(at: .seconds(122)) == ["old": 5, "kept": 3])
    }

    @Test func aTTLOfZeroKeepsSeriesForever() {
        var h = StoreHarness(.init(ttl: .zero))
        h.send("g:1|g", at: .epoch)
        #expect(h.store.expire(now: .seconds(1_000_000)) == 0)
        #expect(h.samples(at: .seconds(1_000_000)) == ["g": 1])
    }

    @Test func manySeriesComeOutSortedByLabels() {
        var h = StoreHarness()
        let ids = (0..<500).shuffled()
        for id in ids { h.send("m:1|c|#id:\(id)") }
        var seen: [String] = []
        h.store.forEachFamily(now: .epoch) { family in
            family.forEachSeries { labels, _, _ in seen.append(labels.rendered) }
        }
        #expect(seen.count == 500)
        #expect(seen == seen.sorted())
    }

    @Test func eventsAndServiceChecksAreCounted() {
        var h = StoreHarness()
        h.send("_e{1,1}:a|b\n_sc|check|0\nx:1|c")
        #expect(h.store.stats.events == 1)
        #expect(h.store.stats.serviceChecks == 1)
        #expect(h.store.stats.totalParseErrors == 0)
    }

    /// The whole recorded capture, in both modes: every series it implies, exactly.
    @Test(arguments: [NamingMode.tigerbeetle, .statsdExporter])
    func recordedCaptureMatchesTheOracle(_ mode: NamingMode) throws {
        let capture = try Fixtures.capture()
        var h = StoreHarness(.init(mode: mode))
        for datagram in capture { h.send(datagram.text) }
        let expected = CaptureOracle.expectedSeries(
            datagrams: capture.map(\.text),
            mode: mode == .tigerbeetle ? .tigerbeetle : .statsdExporter)
        let actual = h.samples()
        #expect(Set(actual.keys) == Set(expected.keys))
        for (key, value) in expected {
            #expect(actual[key].map { PrometheusText.close($0, value) } == true, "\(key): \(actual[key] ?? .nan) != \(value)")
        }
        #expect(h.store.stats.lines == 19_710)
        #expect(h.store.stats.totalParseErrors == 0)
        #expect(h.store.stats.typeConflicts == 0)
    }
}
