import Foundation
import Glibc

/// A cardinality attack: 10M lines of unique names against the default --limits.max-series.
/// Resident memory must stay bounded; the refused lines are counted.
struct CardinalityBench {
    var lines = 10_000_000

    func run(into results: inout BenchResults) throws {
        let agent = try AgentProcess(statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false))
        defer { agent.stop() }
        let fd = loopbackUDPSocket(port: agent.statsdPort)
        defer { close(fd) }
        var datagram = ""
        for i in 0..<lines {
            datagram += "attack.unique_\(i):1|c|#victim:beetlewatch\n"
            if datagram.utf8.count > 1300 {
                _ = datagram.withCString { send(fd, $0, strlen($0), 0) }
                datagram = ""
                if i % 50_000 < 40 { usleep(1000) }
            }
        }
        usleep(2_000_000)
        let samples = try agent.samples()
        results.add("cardinality_lines_sent", Double(lines), "lines")
        results.add("cardinality_series_held", samples["beetlewatch_statsd_series"] ?? 0, "series")
        results.add("cardinality_lines_refused", samples["beetlewatch_series_refused_total"] ?? 0, "lines")
        results.add("cardinality_resident", Double(agent.residentBytes) / 1_048_576, "MiB", decimals: 1)
    }
}
