import Foundation
import MetricStore
import TestSupport
import Testing
import TigerBeetle

@testable import Exposition

func render(_ store: MetricStore, extra: [StaticFamily] = [], now: WallInstant = .epoch) -> String {
    String(decoding: MetricsPage.render(store: store, extra: extra, now: now), as: UTF8.self)
}

func storeFed(_ datagrams: [String], mode: NamingMode = .tigerbeetle) -> MetricStore {
    var store = MetricStore(options: .init(mode: mode, reservedNames: SelfMetrics.reservedNames))
    for datagram in datagrams {
        Array(datagram.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: .epoch) }
    }
    return store
}

@Suite struct ExpositionTests {
    /// TigerBeetle's integer µs and ns become seconds without float noise: the page shows the decimal
    /// (`10.066686`, once `10.066685999999999`).
    @Test func unitConversionsShowTheExactDecimal() {
        let tags = "#cluster:\(String(repeating: "0", count: 32)),replica:0"
        let cases: [(line: String, sample: String, shown: String)] = [
            ("tb.replica_request_us.max:10066686|g|\(tags)", "tigerbeetle_replica_request_seconds_max", "10.066686"),
            ("tb.replica_request_us.avg:1329|g|\(tags)", "tigerbeetle_replica_request_seconds_avg", "0.001329"),
            ("tb.clock_delta_ns:-17|g|\(tags)", "tigerbeetle_clock_delta_seconds", "-1.7e-08"),
        ]
        for c in cases {
            let page = render(storeFed([c.line]))
            let line = page.split(separator: "\n").first { $0.hasPrefix(c.sample + "{") }
            #expect(line?.hasSuffix(" " + c.shown) == true, "\(c.line): \(line ?? "missing")")
        }
    }

    /// Every TigerBeetle value on the page of the recorded capture is the double nearest its exact decimal: sums of
    /// µs and ns add up in the integer unit TigerBeetle sent and are converted once, when the page is rendered.
    @Test func theRecordedCapturesPageCarriesNoFloatNoise() throws {
        let capture = try Fixtures.capture().map(\.text)
        let exact = CaptureOracle.exactSeries(datagrams: capture)
        let page = render(storeFed(capture))
        var checked = 0
        var noisy: [String] = []
        for line in page.split(separator: "\n") where line.hasPrefix("tigerbeetle_") {
            let parts = line.split(separator: " ")
            let key = String(parts[0])
            guard let decimal = exact[key] else {
                noisy.append("\(line): not in the capture")
                continue
            }
            checked += 1
            if Double(parts[1]) != Double(decimal) { noisy.append("\(line): exactly \(decimal)") }
        }
        #expect(checked == exact.count)
        #expect(checked == 2_749)
        #expect(noisy.isEmpty, "\(noisy.count) values with float noise, e.g. \(noisy.prefix(5))")
    }

    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }

    /// The page for a fixed input, byte for byte. Set BEETLEWATCH_UPDATE_GOLDEN=1 to rewrite it.
    @Test func goldenPage() throws {
        let input = try String(contentsOf: fixtures.appendingPathComponent("golden-input.statsd"), encoding: .utf8)
        let own = [
            StaticFamily(
                name: "beetlewatch_build_info", help: "Build.", type: .gauge,
                samples: [(LabelSet([("version", "test")]), 1)])
        ]
        let page = render(storeFed([input]), extra: own)
        let goldenURL = fixtures.appendingPathComponent("golden.prom")
        if ProcessInfo.processInfo.environment["BEETLEWATCH_UPDATE_GOLDEN"] == "1" {
            let source = Fixtures.repositoryRoot.appendingPathComponent("Tests/ExpositionTests/Fixtures/golden.prom")
            try page.write(to: source, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(page == golden)
    }

    @Test(arguments: [
        (0.0, "0"), (1, "1"), (-7, "-7"), (107937, "107937"), (0.5, "0.5"), (1e-6, "1e-06"),
        (1.795731489814354e18, "1.795731489814354e+18"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"),
        (Double.nan, "NaN"), (123_456_789_012_345, "123456789012345"), (-0.0, "0"),
    ])
    func formatsValues(_ value: Double, _ text: String) {
        var bytes: [UInt8] = []
        ExpositionWriter.appendValue(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == text)
    }

    @Test func escapesHelp() {
        #expect(ExpositionWriter.escapeHelp("a\\b\nc \"q\"") == "a\\\\b\\nc \"q\"")
    }

    @Test func familiesAreSortedAndContiguous() {
        let page = render(
            storeFed(["b:1|c\na:1|g\nb:1|c|#x:1\nc:1|h"]),
            extra: [StaticFamily(name: "ab", help: "h", type: .gauge, value: 1)])
        let typeLines = page.split(separator: "\n").filter { $0.hasPrefix("# TYPE") }.map { $0.split(separator: " ")[2] }
        #expect(typeLines == ["a", "ab", "b", "c"])
        #expect(page.hasSuffix("\n"))
    }

    @Test func expiredSeriesAndEmptyFamiliesAreLeftOut() {
        var store = MetricStore(options: .init(ttl: .seconds(10)))
        Array("old:1|g".utf8).withUnsafeBytes { store.ingest(datagram: $0, now: .epoch) }
        Array("new:1|g".utf8).withUnsafeBytes { store.ingest(datagram: $0, now: .seconds(100)) }
        let page = render(store, now: .seconds(105))
        #expect(!page.contains("old"))
        #expect(page.contains("new 1\n"))
    }

    /// `promtool check metrics` reports nothing — no error, no lint finding — on the
    /// default-mode page from the recorded real capture, beetlewatch's own metrics included.
    @Test func promtoolAcceptsThePageFromTheRecordedCapture() throws {
        let capture = try Fixtures.capture()
        let store = storeFed(capture.map(\.text))
        let own = SelfMetrics.families(
            ingest: store.stats, signals: store.signals,
            receiver: ReceiverStats(queueDrops: 0, kernelDrops: 0, receiveBufferBytes: 8 << 20),
            liveSeries: store.seriesCount, mode: .tigerbeetle, build: BuildInfo(version: "test", swiftVersion: "6.3"))
        let page = render(store, extra: own)
        let result = try Promtool.checkMetrics(page)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "promtool findings:\n\(result.output)")
        #expect(page.contains("tigerbeetle_replica_status{"))
        #expect(page.contains("beetlewatch_statsd_lines_total 19710\n"))
    }
}
