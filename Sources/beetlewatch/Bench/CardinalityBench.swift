import Foundation
import Glibc

/// A cardinality attack: 10M lines of unique names against the default --limits.max-series.
/// Resident memory must stay bounded; the refused lines are counted.
struct CardinalityBench {
    var lines = 10_000_000

    func run(into results: inout BenchResults) throws {
        let agent = try AgentProcess(statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false))
        defer { agent.stop() }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = agent.statsdPort.bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
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
