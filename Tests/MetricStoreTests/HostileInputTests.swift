import StatsD
import Testing

@testable import MetricStore

struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// Reasons expected in beetlewatch_statsd_parse_errors_total, with counts.
    var errors: [ParseError: UInt64] = [:]
    var conflicts: UInt64 = 0
    /// Documented values the hostile lines leave behind (sample name → value).
    var values: [String: Double] = [:]
    var testDescription: String { name }
}

/// A deterministic byte soup.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

let hostileCases: [HostileCase] = [
    HostileCase(name: "random bytes", bytes: randomBytes(4000, seed: 7).map { $0 == 0x0A ? 0x20 : $0 }),
    HostileCase(
        name: "a 64 KiB datagram of valid lines",
        bytes: Array(String(repeating: "many.lines:1|c|#k:v\n", count: 3270).utf8), values: ["many_lines{k=\"v\"}": 3270]),
    HostileCase(
        name: "one line over 64 KiB", bytes: Array(("huge:1|c|#k:" + String(repeating: "v", count: 65_530)).utf8), errors: [.lineTooLong: 1]
    ),
    HostileCase(name: "invalid UTF-8", bytes: Array("bad".utf8) + [0xC3, 0x28] + Array(":1|c".utf8), errors: [.invalidUTF8: 1]),
    HostileCase(name: "NUL bytes", bytes: Array("nul\u{0}name:1|c".utf8), errors: [.controlCharacter: 1]),
    HostileCase(
        name: "10k tags on a line",
        bytes: Array(("tags:1|c|#" + Array(repeating: "t:v", count: 10_000).joined(separator: ",")).utf8), errors: [.tooManyTags: 1]),
    HostileCase(name: "empty names", bytes: Array(":1|c\n:2|g".utf8), errors: [.emptyName: 2]),
    HostileCase(name: "NaN, Inf and 1e400", bytes: Array("x:NaN|g\nx:Inf|g\nx:1e400|g".utf8), errors: [.invalidValue: 3]),
    HostileCase(name: "negative counters", bytes: Array("neg:-5|c".utf8), errors: [.negativeCounter: 1]),
    HostileCase(
        name: "sample rates 0, negative and above 1", bytes: Array("r:1|c|@0\nr:1|c|@-1\nr:1|c|@2".utf8), errors: [.invalidSampleRate: 3]),
    // A line whose finite values would take a series to ±Inf is refused whole; the series keeps its value.
    HostileCase(
        name: "a gauge overflowing", bytes: Array("big:1e308|g\nbig:+1e308|g".utf8), errors: [.valueOverflow: 1], values: ["big": 1e308]),
    HostileCase(
        name: "a counter overflowing", bytes: Array("cnt:1e308|c\ncnt:1e308|c\ncnt:1e303|c|@0.000001".utf8),
        errors: [.valueOverflow: 2], values: ["cnt": 1e308]),
    HostileCase(
        name: "sample rates 1e-300 and 1e-320", bytes: Array("tiny:1|c|@1e-300\ntiny.t:5|ms|@1e-320\ntiny.g:1|g|@1e-300".utf8),
        errors: [.invalidSampleRate: 3]),
    HostileCase(
        name: "a timer overflowing its sum", bytes: Array("t:1e308|ms|@0.000001\nt:2|ms".utf8), errors: [.valueOverflow: 1],
        values: ["t_sum": 0.002, "t_count": 1]),
    HostileCase(name: "a __name__ tag", bytes: Array("k.test:1|c|#__name__:v,__meta:x,ok:1".utf8), values: ["k_test{ok=\"1\"}": 1]),
    HostileCase(
        name: "a quantile tag on a timer", bytes: Array("lat:1000|ms|#quantile:0.5".utf8),
        values: ["lat_sum{exported_quantile=\"0.5\"}": 1, "lat_count{exported_quantile=\"0.5\"}": 1]),
    HostileCase(
        name: "names sanitising alike with different types", bytes: Array("a.b:1|c\na-b:1|g\na_b:2|c".utf8), conflicts: 1,
        values: ["a_b": 3]),
    // The store checks a line's name and tags for control characters and UTF-8 only when its shape is new: a cached
    // shape's bytes were checked. Whatever else the line holds is still checked, with parseLine's reasons.
    HostileCase(
        name: "a control character in a timestamp after its shape is cached", bytes: Array("k:1|g|#t:v\nk:2|g|#t:v|T1\u{01}".utf8),
        errors: [.controlCharacter: 1], values: ["k{t=\"v\"}": 1]),
    HostileCase(
        name: "a control character in a value after its shape is cached", bytes: Array("k:1|g\nk:2\u{01}|g".utf8),
        errors: [.controlCharacter: 1], values: ["k": 1]),
    HostileCase(
        name: "a control character in a set member after its shape is cached", bytes: Array("s:a|s\ns:b\u{01}|s".utf8),
        errors: [.controlCharacter: 1], values: ["s": 1]),
    HostileCase(name: "a control character in a new shape's name", bytes: Array("k\u{01}x:1|g".utf8), errors: [.controlCharacter: 1]),
    HostileCase(name: "invalid UTF-8 in a new shape's tag", bytes: Array("k:1|g|#t:".utf8) + [0xFF], errors: [.invalidUTF8: 1]),
    HostileCase(
        name: "a control character and invalid UTF-8 in a new shape: the control character is named",
        bytes: Array("k".utf8) + [0xFF] + Array(":1|g|#t:\u{01}".utf8), errors: [.controlCharacter: 1]),
]

@Suite struct HostileInputTests {
    @Test(arguments: hostileCases)
    func aHostileLineIsCountedAndItsNeighboursStillCount(_ c: HostileCase) {
        var h = StoreHarness()
        let datagram = Array("ok.before:1|c\n".utf8) + c.bytes + Array("\nok.after:1|c".utf8)
        datagram.withUnsafeBytes { h.store.ingest(datagram: $0, now: .epoch) }
        let samples = h.samples()
        #expect(samples["ok_before"] == 1)
        #expect(samples["ok_after"] == 1)
        for (reason, count) in c.errors { #expect(h.store.stats.parseErrors(reason) == count, "\(reason.rawValue)") }
        if !c.errors.isEmpty && c.name != "random bytes" {
            #expect(h.store.stats.totalParseErrors == c.errors.values.reduce(0, +))
        }
        #expect(h.store.stats.typeConflicts == c.conflicts)
        for (name, value) in c.values { #expect(samples[name] == value, "\(name)") }
    }

    @Test func theSeriesLimitRefusesNewSeriesAndKeepsUpdatingOld() {
        var h = StoreHarness(.init(maxSeries: 3))
        h.send("s:1|c|#i:1\ns:1|c|#i:2\ns:1|c|#i:3\ns:1|c|#i:4\ns:1|c|#i:5")
        h.send("s:1|c|#i:1\ns:1|c|#i:5")
        #expect(h.store.seriesCount == 3)
        #expect(h.store.stats.seriesRefused == 3)
        #expect(h.samples()["s{i=\"1\"}"] == 2)
        #expect(h.samples()["s{i=\"5\"}"] == nil)
    }

    /// Past the limit, a flood of unique names creates no family, and no cache entry.
    @Test func uniqueNamesPastTheLimitGrowNothing() {
        var h = StoreHarness(.init(maxSeries: 3))
        h.send("s:1|c|#i:1\ns:1|c|#i:2\ns:1|c|#i:3")
        let families = h.store.familyCount
        let cached = h.store.lineCacheCount
        for batch in 0..<100 {
            h.send((0..<50).map { "attack.unique_\(batch)_\($0):1|c|#victim:beetlewatch" }.joined(separator: "\n"))
        }
        #expect(h.store.stats.seriesRefused == 5_000)
        #expect(h.store.familyCount == families)
        #expect(h.store.lineCacheCount == cached)
        #expect(h.store.seriesCount == 3)
    }

    /// Shapes that resolve without a new series (tag orders, type conflicts) are cached, up to a bound.
    @Test func theLineCacheIsBounded() {
        var h = StoreHarness(.init(maxSeries: 3))
        h.send("s:1|c|#a:1,b:2")
        for i in 0..<3_000 {
            // The same series, a new shape each time: a conflicting type with a fresh unused tag order.
            h.send("s:1|g|#a:1,b:2,x\(i)")
        }
        #expect(h.store.stats.typeConflicts == 3_000)
        #expect(h.store.lineCacheCount <= h.store.lineCacheLimit)
        #expect(h.store.lineCacheLimit == 1024)
        #expect(h.samples()["s{a=\"1\",b=\"2\"}"] == 1)
    }
}
