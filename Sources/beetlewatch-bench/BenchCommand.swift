import Agent
import ArgumentParser
import Config
import Exposition
import Foundation
import MetricStore

/// The benchmark suite, a program of its own (the shipped `beetlewatch` carries none of it). Build with
/// `-c release`; `scripts/bench` runs all of it. It runs the `beetlewatch` (and `fake-tigerbeetle`) built beside it.
/// Every result is one line `name value unit`; a summary table closes the run.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beetlewatch-bench",
        abstract: "Benchmarks: parse, ingest, scrape, memory, alert-latency, probe (run a release build).",
        discussion: "Prints one line per result (name value unit) and a summary table. docs/performance.md has the method and figures."
    )

    @Argument(
        help:
            "Which benchmarks: parse, ingest, scrape, memory, alert-latency, probe, fleet, cardinality, soak (default: all but fleet, cardinality and soak)."
    )
    var names: [String] = ["parse", "ingest", "scrape", "memory", "alert-latency", "probe"]

    @Option(help: "The capture whose lines the parse benchmark replays in-process.")
    var capture: String = "Tests/Fixtures/tigerbeetle-3-replicas.statsd.jsonl"

    @Option(help: "Seconds per in-process measurement.")
    var seconds: Double = 3

    @Option(help: "Parse: run exactly this many passes instead of --seconds (for valgrind --tool=callgrind; 0: timed).")
    var passes: Int = 0

    @Option(parsing: .upToNextOption, help: "Parse: which inputs (capture, counters).")
    var parseInputs: [String] = ["capture", "counters"]

    @Option(help: "Lines per ingest run while searching for the highest lossless rate.")
    var searchLines: Int = 6_000_000

    @Option(parsing: .upToNextOption, help: "Offered rates (lines/s) the ingest search tries, in order; it stops at the first loss.")
    var rates: [Double] = [1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000, 6_000_000, 7_000_000, 8_000_000]

    @Option(help: "Lines of the run that confirms the highest lossless rate.")
    var confirmLines: Int = 30_000_000

    @Flag(help: "Skip the 1M-series scrape and memory points (they take a minute each).")
    var quick = false

    @Option(
        help:
            "Scrape and memory: the series' shape: short (`bench.series|g|#id:series-N,shard:K`) or tigerbeetle (`tb.bench_requests_us.count|c|#cluster:<32 hex>,replica:N,operation:opK`)."
    )
    var seriesShape: SeriesShape = .short

    @Option(help: "Fleet: TigerBeetle clusters of 6 replicas each.")
    var fleetClusters: Int = 100

    @Option(help: "Fleet: seconds the run lasts (the first two emit intervals are warm-up).")
    var fleetSeconds: Double = 60

    @Option(help: "Minutes the soak runs.")
    var soakMinutes: Double = 30

    @Option(help: "Offered rate of the soak, lines/s (half the lossless rate measured on the development machine).")
    var soakRate: Double = 900_000

    func run() throws {
        var results = BenchResults()
        var failed = false
        for name in names {
            switch name {
            case "parse": try ParseBench(capture: capture, seconds: seconds, passes: passes, inputs: Set(parseInputs)).run(into: &results)
            case "ingest": try IngestBench(rates: rates, searchLines: searchLines, confirmLines: confirmLines).run(into: &results)
            case "scrape": try ScrapeBench(quick: quick, shape: seriesShape).run(into: &results)
            case "memory": try MemoryBench(quick: quick, shape: seriesShape).run(into: &results)
            case "alert-latency": try AlertLatencyBench().run(into: &results)
            case "probe": try ProbeBench().run(into: &results)
            case "fleet": try FleetBench(capture: capture, clusters: fleetClusters, seconds: fleetSeconds).run(into: &results)
            case "cardinality": try CardinalityBench().run(into: &results)
            case "soak":
                if try !SoakBench(minutes: soakMinutes, rate: soakRate).run(into: &results) { failed = true }
            default:
                throw ValidationError(
                    "unknown benchmark \(name) (parse, ingest, scrape, memory, alert-latency, probe, fleet, cardinality, soak)")
            }
        }
        results.printSummary()
        if failed { throw ExitCode(1) }
    }
}

/// Collected results: printed as they come, and as a table at the end.
struct BenchResults {
    private var rows: [(name: String, value: String, unit: String)] = []

    mutating func add(_ name: String, _ value: Double, _ unit: String, decimals: Int = 0) {
        let text = decimals == 0 ? String(Int(value.rounded())) : String(format: "%.\(decimals)f", value)
        rows.append((name, text, unit))
        print("\(name) \(text) \(unit)")
        fflush(nil)
    }

    func printSummary() {
        let width = rows.map(\.name.count).max() ?? 10
        print("\nSUMMARY")
        for row in rows {
            print(row.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + row.value + " " + row.unit)
        }
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
