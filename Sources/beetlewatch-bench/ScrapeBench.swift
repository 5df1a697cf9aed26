import Foundation

/// Time to serve /metrics over HTTP at 10k, 100k and 1M live series; and whether ingest at
/// 1M lines/s stays lossless while 100k series are scraped every second.
struct ScrapeBench {
    var quick: Bool
    var shape: SeriesShape

    func run(into results: inout BenchResults) throws {
        let agent = try AgentProcess.forSeries()
        defer { agent.stop() }
        var loaded = 0
        for (count, label, repeats) in [(10_000, "10k", 50), (100_000, "100k", 20), (1_000_000, "1m", 5)] {
            if quick && count > 100_000 { continue }
            try SeriesLoader.load(count, shape: shape, into: agent)
            loaded = count
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<repeats {
                let start = Date()
                let reply = try RawHTTP.get(port: agent.webPort, path: "/metrics")
                times.append(Date().timeIntervalSince(start) * 1000)
                bytes = reply.bytes
            }
            times.sort()
            results.add("\(shape.resultPrefix)scrape_\(label)_series_p50", percentile(times, 0.5), "ms", decimals: 1)
            results.add("\(shape.resultPrefix)scrape_\(label)_series_p99", percentile(times, 0.99), "ms", decimals: 1)
            results.add("\(shape.resultPrefix)scrape_\(label)_series_bytes", Double(bytes), "bytes")
            if count == 100_000 {
                try ingestWhileScraping(agent: agent, into: &results)
            }
        }
        _ = loaded
    }

    /// Ingest at 1M lines/s for 10M lines while /metrics (100k series) is scraped every second.
    func ingestWhileScraping(agent: AgentProcess, into results: inout BenchResults) throws {
        let stop = DispatchSemaphore(value: 0)
        let scraper = Thread {
            while stop.wait(timeout: .now() + 1) == .timedOut {
                _ = try? RawHTTP.get(port: agent.webPort, path: "/metrics")
            }
        }
        scraper.start()
        let outcome = try IngestBench.measure(agent: agent, sender: LoadSender(), lines: 10_000_000, rate: 1_000_000)
        stop.signal()
        results.add("ingest_1m_lines_per_second_while_scraping_100k_lost", Double(outcome.lost), "lines")
        results.add("ingest_1m_lines_per_second_while_scraping_100k_sent", Double(outcome.sent), "lines")
    }
}
