import ArgumentParser
import Foundation
import Glibc

/// What the scrape and memory benchmarks' series look like.
enum SeriesShape: String, ExpressibleByArgument, CaseIterable {
    /// The benchmark's own gauges, short labels: `bench.series:V|g|#id:series-N,shard:K`.
    case short
    /// TigerBeetle's tags: one 32-hex `cluster` id on every series, `replica`, and one more tag:
    /// `tb.bench_requests_us.count:1|c|#cluster:0000000000000000000000000000000a,replica:N,operation:opK`.
    case tigerbeetle

    /// The line of series `id`.
    func line(_ id: Int) -> String {
        switch self {
        case .short: "bench.series:\(id % 1000)|g|#id:series-\(id),shard:\(id % 16)\n"
        case .tigerbeetle:
            "tb.bench_requests_us.count:1|c|#cluster:0000000000000000000000000000000a,replica:\(id % 6),operation:op\(id / 6)\n"
        }
    }

    /// The prefix of the results' names.
    var resultPrefix: String { self == .short ? "" : "tigerbeetle_shaped_" }
}

/// Creates `count` distinct series of a shape in an agent, paced to stay lossless, and waits until the agent holds
/// them all (a larger load sends the smaller one's lines again).
enum SeriesLoader {
    static func load(_ count: Int, shape: SeriesShape = .short, into agent: AgentProcess) throws {
        let fd = loopbackUDPSocket(port: agent.statsdPort)
        defer { close(fd) }
        var datagram = ""
        var sentLines = 0
        let start = Date()
        for id in 0..<count {
            datagram += shape.line(id)
            if datagram.utf8.count > 1300 || id == count - 1 {
                _ = datagram.withCString { send(fd, $0, strlen($0), 0) }
                datagram = ""
            }
            sentLines += 1
            // Stay near 400k lines/s so that nothing is dropped.
            while Double(sentLines) / max(Date().timeIntervalSince(start), 1e-6) > 400_000 { usleep(200) }
        }
        let deadline = Date().addingTimeInterval(60)
        // The live-series gauge alone (not the created/refused counters beside it, which once made a 1M load that
        // the default 500k series limit had cut in half look complete).
        while try (agent.samples()["beetlewatch_statsd_series"] ?? 0) < Double(count) {
            guard Date() < deadline else { throw BenchError("the agent holds fewer than \(count) series") }
            usleep(100_000)
        }
    }
}
