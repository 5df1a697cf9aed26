import Foundation
import Glibc

/// Creates `count` distinct gauge series in an agent (`bench.series{id}`), paced to stay lossless,
/// and waits until the agent holds them all.
enum SeriesLoader {
    static func load(_ count: Int, into agent: AgentProcess) throws {
        let fd = loopbackUDPSocket(port: agent.statsdPort)
        defer { close(fd) }
        var datagram = ""
        var sentLines = 0
        let start = Date()
        for id in 0..<count {
            datagram += "bench.series:\(id % 1000)|g|#id:series-\(id),shard:\(id % 16)\n"
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
