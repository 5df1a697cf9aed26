import Agent
import ArgumentParser
import Exposition
import Foundation
import MetricStore

/// In-process benchmarks of the pure pipeline. Build with `-c release`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure parse + aggregate and /metrics rendering in-process (run a release build).",
        discussion: "Prints one line per result: name value unit."
    )

    @Argument(help: "Which benchmarks: parse, scrape (default: both).")
    var names: [String] = ["parse", "scrape"]

    @Option(help: "The capture whose lines are replayed in-process.")
    var capture: String = "../shared/fixtures/tigerbeetle-3-replicas.statsd.jsonl"

    @Option(help: "Seconds to spend per benchmark.")
    var seconds: Double = 3

    func run() throws {
        let datagrams = try CaptureFile.load(path: capture).datagrams.map(\.bytes)
        let linesPerPass = datagrams.reduce(0) { $0 + $1.split(separator: UInt8(ascii: "\n")).count }
        for name in names {
            switch name {
            case "parse": parse(datagrams, linesPerPass: linesPerPass)
            case "scrape": scrape(datagrams)
            default: throw ValidationError("unknown benchmark \(name) (parse, scrape)")
            }
        }
    }

    /// Parse + aggregate on one core: every pass applies the whole capture to one store.
    func parse(_ datagrams: [[UInt8]], linesPerPass: Int) {
        var store = MetricStore(options: .init(reservedNames: SelfMetrics.reservedNames))
        let clock = ContinuousClock()
        var passes = 0
        let start = clock.now
        var elapsed = Duration.zero
        while elapsed < .seconds(seconds) {
            for datagram in datagrams {
                datagram.withUnsafeBytes { store.ingest(datagram: $0, now: 0) }
            }
            passes += 1
            elapsed = clock.now - start
        }
        let lines = Double(passes * linesPerPass)
        let rate = lines / elapsed.seconds
        print("parse_lines_per_second \(Int(rate)) lines/s")
        print("parse_ns_per_line \(String(format: "%.1f", 1e9 / rate)) ns")
        precondition(store.stats.totalParseErrors == 0)
    }

    /// Rendering the page for the capture's series, as a scrape does (snapshot + render).
    func scrape(_ datagrams: [[UInt8]]) {
        var store = MetricStore(options: .init(reservedNames: SelfMetrics.reservedNames))
        for datagram in datagrams { datagram.withUnsafeBytes { store.ingest(datagram: $0, now: 0) } }
        let clock = ContinuousClock()
        var times: [Double] = []
        var bytes = 0
        let start = clock.now
        while clock.now - start < .seconds(seconds) {
            let t0 = clock.now
            let snapshot = store
            let own = SelfMetrics.families(ingest: snapshot.stats, receiver: ReceiverStats(), liveSeries: snapshot.seriesCount,
                                           mode: .tigerbeetle, build: BuildInfo(version: "bench", swiftVersion: ""))
            bytes = MetricsPage.render(store: snapshot, extra: own, now: 0).count
            times.append((clock.now - t0).seconds * 1000)
        }
        times.sort()
        print("scrape_series \(store.seriesCount) series")
        print("scrape_bytes \(bytes) bytes")
        print("scrape_p50 \(String(format: "%.3f", times[times.count / 2])) ms")
        print("scrape_p99 \(String(format: "%.3f", times[min(times.count - 1, times.count * 99 / 100)])) ms")
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
