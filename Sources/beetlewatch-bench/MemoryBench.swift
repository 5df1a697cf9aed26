import Foundation

/// Resident memory of the agent: idle, and per live series at 100k and 1M series.
struct MemoryBench {
    var quick: Bool
    var shape: SeriesShape

    func run(into results: inout BenchResults) throws {
        let agent = try AgentProcess.forSeries()
        defer { agent.stop() }
        usleep(1_000_000)
        let idle = agent.residentBytes
        results.add("memory_idle_resident", Double(idle) / 1_048_576, "MiB", decimals: 1)
        for (count, label) in [(100_000, "100k"), (1_000_000, "1m")] {
            if quick && count > 100_000 { continue }
            try SeriesLoader.load(count, shape: shape, into: agent)
            let unscraped = agent.residentBytes
            results.add(
                "\(shape.resultPrefix)memory_\(label)_series_resident_before_a_scrape", Double(unscraped) / 1_048_576, "MiB", decimals: 1)
            // One scrape, as Prometheus would do, so its buffers are counted too.
            _ = try RawHTTP.get(port: agent.webPort, path: "/metrics")
            let resident = agent.residentBytes
            results.add("\(shape.resultPrefix)memory_\(label)_series_resident", Double(resident) / 1_048_576, "MiB", decimals: 1)
            results.add("\(shape.resultPrefix)memory_\(label)_series_bytes_per_series", Double(resident - idle) / Double(count), "bytes")
        }
    }
}
