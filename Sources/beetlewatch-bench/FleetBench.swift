import Agent
import Foundation
import Glibc
import Synchronization

/// A fleet: `clusters` TigerBeetle clusters of 6 replicas, each replica sending TigerBeetle's real emit cycle (replica
/// 0's datagrams from the capture's first 10 s, its `cluster` and `replica` tags rewritten) every 10 s, spread over
/// the interval, while the agent probes every replica (`fake-tigerbeetle` answering). After two cycles of warm-up:
/// the agent's CPU over the rest of the run, `/metrics` (p50 of 5 scrapes, bytes), series, resident memory.
struct FleetBench {
    static let replicasPerCluster = 6
    static let emitInterval = 10.0

    var capture: String
    var clusters = 100
    var seconds: Double = 60

    func run(into results: inout BenchResults) throws {
        let cycle = try Self.emitCycle(capture)
        let farm = try FakeReplicaFarm(clusters: clusters, perCluster: Self.replicasPerCluster)
        defer { farm.stop() }
        let file = try farm.writeConfig(name: "fleet-bench")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let agent = try AgentProcess(
            statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false),
            extraArguments: ["--config.file", file, "--limits.max-series", "5000000"])
        defer { agent.stop() }
        let replicas = (1...clusters).flatMap { cluster in
            (0..<Self.replicasPerCluster).map { Self.datagrams(cycle, cluster: cluster, replica: $0) }
        }
        results.add("fleet_replicas", Double(replicas.count), "replicas")
        results.add("fleet_lines_per_cycle", Double(replicas.reduce(0) { $0 + $1.lines }), "lines")

        let sending = RunFlag()
        let sender = Thread { Self.sendCycles(replicas, to: agent.statsdPort, while: sending) }
        sender.start()
        defer { sending.stop() }
        usleep(UInt32(2 * Self.emitInterval * 1_000_000))

        results.add("fleet_resident_before_a_scrape", Double(agent.residentBytes) / 1_048_576, "MiB", decimals: 1)
        let pid = agent.process.processIdentifier
        let before = ProbeBench.threads(of: pid).reduce(0) { $0 + $1.ticks }
        let started = Date()
        var scrapes: [Double] = []
        var bytes = 0
        let measuring = max(seconds - 2 * Self.emitInterval, Self.emitInterval)
        while Date().timeIntervalSince(started) < measuring {
            if scrapes.count < 5 {
                let start = Date()
                let reply = try RawHTTP.get(port: agent.webPort, path: "/metrics")
                scrapes.append(Date().timeIntervalSince(start))
                bytes = reply.bytes
            }
            usleep(UInt32(Self.emitInterval / 5 * 1_000_000))
        }
        let elapsed = Date().timeIntervalSince(started)
        let ticks = ProbeBench.threads(of: pid).reduce(0) { $0 + $1.ticks } - before
        results.add("fleet_agent_cpu", Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / elapsed * 100, "% of one core", decimals: 1)
        results.add("fleet_metrics_p50", scrapes.sorted()[scrapes.count / 2] * 1000, "ms", decimals: 1)
        results.add("fleet_metrics_bytes", Double(bytes), "bytes")
        let samples = try agent.samples()
        results.add("fleet_series", samples["beetlewatch_statsd_series"] ?? 0, "series")
        results.add(
            "fleet_replicas_answering", samples.filter { $0.key.hasPrefix("tigerbeetle_probe_answering{") }.values.reduce(0, +), "replicas")
        results.add("fleet_resident", Double(agent.residentBytes) / 1_048_576, "MiB", decimals: 1)
    }

    /// Replica 0's datagrams of the capture's first emit interval, as text.
    static func emitCycle(_ path: String) throws -> [String] {
        let datagrams = try CaptureFile.load(path: path).datagrams
        guard let first = datagrams.first?.time else { throw BenchError("\(path) holds no datagram") }
        return datagrams.filter { $0.time < first + emitInterval }.map { String(decoding: $0.bytes, as: UTF8.self) }
            .filter { $0.contains("replica:0") }
    }

    /// One replica's cycle: the datagrams with its cluster id and replica index.
    static func datagrams(_ cycle: [String], cluster: Int, replica: Int) -> (datagrams: [[UInt8]], lines: Int) {
        let hex = String(cluster, radix: 16)
        let id = String(repeating: "0", count: 32 - hex.count) + hex
        let rewritten = cycle.map {
            Array(
                $0.replacingOccurrences(of: "cluster:" + String(repeating: "0", count: 32), with: "cluster:" + id)
                    .replacingOccurrences(of: "replica:0", with: "replica:\(replica)").utf8)
        }
        return (rewritten, rewritten.reduce(0) { $0 + $1.split(separator: UInt8(ascii: "\n")).count })
    }

    /// Every replica's cycle once per interval, replica k at k/n of it, until `sending` turns false.
    static func sendCycles(_ replicas: [(datagrams: [[UInt8]], lines: Int)], to port: UInt16, while sending: RunFlag) {
        let fd = loopbackUDPSocket(port: port)
        defer { close(fd) }
        let start = Date()
        var cycle = 0
        while sending.isRunning {
            for (k, replica) in replicas.enumerated() {
                let due = Double(cycle) * emitInterval + emitInterval * Double(k) / Double(replicas.count)
                let wait = due - Date().timeIntervalSince(start)
                if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
                if !sending.isRunning { return }
                for datagram in replica.datagrams { _ = datagram.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }
            }
            cycle += 1
        }
    }
}

/// Whether the sender thread goes on.
final class RunFlag: Sendable {
    private let running = Synchronization.Atomic<Bool>(true)

    var isRunning: Bool { running.load(ordering: .relaxed) }
    func stop() { running.store(false, ordering: .relaxed) }
}
