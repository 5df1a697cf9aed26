import Agent
import Exposition
import Foundation
import Glibc
import Health
import MetricStore
import Synchronization
import TigerBeetle

/// A fleet: `clusters` TigerBeetle clusters of 6 replicas, each replica sending TigerBeetle's real emit cycle (replica
/// 0's datagrams from the capture's first 10 s, its `cluster` and `replica` tags rewritten) every 10 s, spread over
/// the interval, while the agent probes every replica (`fake-tigerbeetle` answering). After two cycles of warm-up:
/// the agent's CPU over the rest of the run, `/metrics` (p50 of 5 scrapes, bytes), a cluster's page (p50 of 20
/// scrapes, each of another cluster, bytes), `/metrics/agent` and the service-discovery document (p50 of 5, bytes),
/// series, resident memory, threads. Then, in this process, what health costs a cluster page: judging the whole fleet
/// and keeping one cluster's families, against judging that cluster alone.
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
        var pages = PageTimings()
        let measuring = max(seconds - 2 * Self.emitInterval, Self.emitInterval)
        while Date().timeIntervalSince(started) < measuring {
            if (pages.durations["/metrics"]?.count ?? 0) < 5 { try pages.get("/metrics", port: agent.webPort) }
            usleep(UInt32(Self.emitInterval / 5 * 1_000_000))
        }
        let elapsed = Date().timeIntervalSince(started)
        let ticks = ProbeBench.threads(of: pid).reduce(0) { $0 + $1.ticks } - before
        results.add("fleet_agent_cpu", Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / elapsed * 100, "% of one core", decimals: 1)
        // The fleet's pages after the CPU window (which stays what it was: ingest, probes and five /metrics), while the
        // replicas go on sending: 20 clusters spread over the fleet, the agent page and the discovery document 5 times.
        for round in 0..<20 {
            try pages.get("/metrics/clusters/\(Self.clusterID(1 + round * clusters / 20))", port: agent.webPort, as: "cluster")
            if round < 5 {
                try pages.get("/metrics/agent", port: agent.webPort)
                try pages.get("/api/v1/scrape-targets", port: agent.webPort)
            }
        }
        for (name, page) in [
            ("metrics", "/metrics"), ("cluster_page", "cluster"), ("agent_page", "/metrics/agent"), ("sd", "/api/v1/scrape-targets"),
        ] {
            results.add("fleet_\(name)_p50", pages.p50(page) * 1000, "ms", decimals: 1)
            results.add("fleet_\(name)_bytes", Double(pages.bytes[page] ?? 0), "bytes")
        }
        let samples = try agent.samples()
        results.add("fleet_series", samples["beetlewatch_statsd_series"] ?? 0, "series")
        results.add(
            "fleet_replicas_answering", samples.filter { $0.key.hasPrefix("tigerbeetle_probe_answering{") }.values.reduce(0, +), "replicas")
        results.add("fleet_resident", Double(agent.residentBytes) / 1_048_576, "MiB", decimals: 1)
        results.add("fleet_agent_threads", Double(ProbeBench.threads(of: pid).count), "threads")
        // A replica stopped inside the running fleet (StatsD still coming from all the others).
        let detection = try ProbeBench.detectHang(
            of: replicas.count / 2, perCluster: Self.replicasPerCluster, farm: farm, agent: agent)
        results.add("fleet_hung_detected_after", detection.hung, "s", decimals: 2)
        results.add("fleet_answering_again_after", detection.answering, "s", decimals: 2)
        let health = Self.healthPerClusterPage(replicas, clusters: clusters)
        results.add("fleet_cluster_page_health_whole_fleet_p50", health.wholeFleet * 1000, "ms", decimals: 2)
        results.add("fleet_cluster_page_health_one_cluster_p50", health.oneCluster * 1000, "ms", decimals: 3)
    }

    /// Each page's durations and last size, by path (cluster pages together).
    struct PageTimings {
        var durations: [String: [Double]] = [:]
        var bytes: [String: Int] = [:]

        mutating func get(_ path: String, port: UInt16, as name: String? = nil) throws {
            let start = Date()
            let reply = try RawHTTP.get(port: port, path: path)
            guard reply.status == 200 else { throw BenchError("\(path): HTTP \(reply.status)") }
            durations[name ?? path, default: []].append(Date().timeIntervalSince(start))
            bytes[name ?? path] = reply.bytes
        }

        func p50(_ name: String) -> Double {
            let sorted = (durations[name] ?? []).sorted()
            return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        }
    }

    /// What health costs one cluster's page, p50 of 21 (in this process, on the fleet's StatsD signals; no probe
    /// results, so a little less than the agent's): the whole fleet judged and its families kept to one cluster (what
    /// a cluster page would do without a one-cluster evaluation), against that cluster judged alone.
    static func healthPerClusterPage(
        _ replicas: [(datagrams: [[UInt8]], lines: Int)], clusters: Int
    ) -> (wholeFleet: Double, oneCluster: Double) {
        var store = MetricStore()
        let now = WallInstant(nanosecondsSinceEpoch: 1_000_000_000_000)
        for replica in replicas {
            for datagram in replica.datagrams { datagram.withUnsafeBytes { store.ingest(datagram: $0, now: now) } }
        }
        let signals = store.signals
        let watched = (1...clusters).map { cluster in
            WatchedCluster(
                id: clusterID(cluster), name: String(cluster),
                addresses: (0..<replicasPerCluster).map { "10.\(cluster / 256).\(cluster % 256).\($0):3000" })
        }
        let policy = HealthPolicy(startedAt: .epoch)
        var progress = ProgressTracker()
        func p50(_ body: (String) -> Int) -> Double {
            let clock = ContinuousClock()
            let durations = (0..<21).map { i in
                let id = clusterID(1 + i * clusters / 21)
                let start = clock.now
                precondition(body(id) > 0)
                return (clock.now - start).seconds
            }
            return durations.sorted()[durations.count / 2]
        }
        let wholeFleet = p50 { id in
            let report = HealthEvaluator.evaluate(
                watched: watched, signals: signals, probes: [:], policy: policy, progress: &progress, now: now)
            return HealthMetrics.families(report).compactMap { $0.limited(to: .cluster(id)) }.count
        }
        let oneCluster = p50 { id in
            let report = HealthEvaluator.evaluate(
                watched: watched, signals: signals, probes: [:], policy: policy, progress: &progress, now: now, onlyCluster: id)
            return HealthMetrics.families(report).compactMap { $0.limited(to: .cluster(id)) }.count
        }
        return (wholeFleet, oneCluster)
    }

    /// Cluster `number`'s id in the tag form (32 lowercase hex digits), as the fleet's replicas send it.
    static func clusterID(_ number: Int) -> String {
        let hex = String(number, radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
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
        let id = clusterID(cluster)
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
