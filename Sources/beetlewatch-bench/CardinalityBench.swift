import Foundation
import Glibc

/// A cardinality attack: 10M lines of unique names against the default --limits.max-series, offered at
/// `rate` lines/s so the agent processes all of them (each refused line still costs a parse and a lookup).
/// Resident memory must stay bounded; the refused lines are counted.
struct CardinalityBench {
    var lines = 10_000_000
    var rate = 250_000.0

    func run(into results: inout BenchResults) throws {
        let agent = try AgentProcess(statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false))
        defer { agent.stop() }
        let fd = loopbackUDPSocket(port: agent.statsdPort)
        defer { close(fd) }
        let start = DispatchTime.now().uptimeNanoseconds
        var datagram = ""
        for i in 0..<lines {
            datagram += "attack.unique_\(i):1|c|#victim:beetlewatch\n"
            if datagram.utf8.count > 1300 || i == lines - 1 {
                _ = datagram.withCString { send(fd, $0, strlen($0), 0) }
                datagram = ""
                let due = start + UInt64(Double(i + 1) / rate * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now + 1_000_000 { usleep(UInt32((due - now) / 1_000)) }
            }
        }
        // Wait until the agent has processed what it was sent.
        var samples = try agent.samples()
        var processed = -1.0
        while processed != samples["beetlewatch_statsd_datagrams_total"] {
            processed = samples["beetlewatch_statsd_datagrams_total"] ?? 0
            usleep(500_000)
            samples = try agent.samples()
        }
        let held = samples["beetlewatch_statsd_series"] ?? 0
        let refused = samples["beetlewatch_series_refused_total"] ?? 0
        results.add("cardinality_lines_sent", Double(lines), "lines")
        results.add("cardinality_series_held", held, "series")
        results.add("cardinality_lines_refused", refused, "lines")
        results.add("cardinality_lines_not_processed", Double(lines) - held - refused, "lines (kernel or queue drops)")
        results.add("cardinality_resident", Double(agent.residentBytes) / 1_048_576, "MiB", decimals: 1)
    }
}
