import Agent
import Config
import Exposition
import Foundation
import MetricStore

/// In-process parse + aggregate on one core, from the same bytes the receiver hands over.
struct ParseBench {
    var capture: String
    var seconds: Double
    /// A fixed number of passes instead of `seconds` (0: timed): what `valgrind --tool=callgrind` runs, so its
    /// instruction count per line compares from one change to the next.
    var passes = 0
    /// Which inputs: `capture`, `counters`.
    var inputs: Set<String> = ["capture", "counters"]

    func run(into results: inout BenchResults) throws {
        if inputs.contains("capture") {
            measure("parse_capture", try CaptureFile.load(path: capture).datagrams.map(\.bytes), into: &results)
        }
        if inputs.contains("counters") {
            measure("parse_counters_1000_label_sets", LoadSender().datagrams, into: &results)
        }
    }

    func measure(_ name: String, _ datagrams: [[UInt8]], into results: inout BenchResults) {
        let linesPerPass = datagrams.reduce(0) { $0 + $1.split(separator: UInt8(ascii: "\n")).count }
        var store = MetricStore(options: .init(ttl: .zero, reservedNames: SelfMetrics.reservedNames))
        // Warm up: the first pass creates every series.
        for datagram in datagrams { datagram.withUnsafeBytes { store.ingest(datagram: $0, now: .epoch) } }
        let allocationsBefore = MallocCounter.count
        let clock = ContinuousClock()
        let start = clock.now
        var passes = 0
        while passes < self.passes || (self.passes == 0 && clock.now - start < .seconds(seconds)) {
            for datagram in datagrams { datagram.withUnsafeBytes { store.ingest(datagram: $0, now: .epoch) } }
            passes += 1
        }
        let elapsed = (clock.now - start).seconds
        let lines = Double(passes * linesPerPass)
        results.add("\(name)_lines_per_second", lines / elapsed, "lines/s")
        results.add("\(name)_ns_per_line", elapsed / lines * 1e9, "ns", decimals: 1)
        if let before = allocationsBefore, let after = MallocCounter.count {
            results.add("\(name)_allocations_per_line", Double(after - before) / lines, "allocs", decimals: 3)
        }
        precondition(store.stats.totalParseErrors == 0)
    }
}

/// Reads the allocation counter of `bench/malloc_count.so` when it is preloaded (scripts/bench does).
enum MallocCounter {
    static var count: UInt64? {
        guard let symbol = dlsym(nil, "bw_malloc_count") else { return nil }  // RTLD_DEFAULT
        typealias Count = @convention(c) () -> UInt64
        return unsafeBitCast(symbol, to: Count.self)()
    }
}
