import Foundation
import Glibc

/// The prober at scale: `fake-tigerbeetle` (built beside this binary; test code that answers pings as
/// recorded replicas do) serves `clusters` × `perCluster` replicas; the agent watches them all. Measures
/// the agent's threads (all, and the prober's), its CPU over `seconds` (all, and the prober's threads),
/// the mean ping round trip, and how long a stopped replica takes to be flagged hung (and answering again
/// after it continues) while the others are probed.
struct ProbeBench {
    var clusters = 200
    var perCluster = 5
    var seconds: Double = 30

    func run(into results: inout BenchResults) throws {
        let farm = try FakeReplicaFarm(clusters: clusters, perCluster: perCluster)
        defer { farm.stop() }
        let config = farm.config
        let file = try farm.writeConfig(name: "probe-bench")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let agent = try AgentProcess(
            statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false),
            extraArguments: ["--config.file", file])
        defer { agent.stop() }
        let replicas = clusters * perCluster
        let pid = agent.process.processIdentifier

        // Every replica answering.
        let deadline = Date().addingTimeInterval(30)
        var answering = 0.0
        while Date() < deadline {
            answering = try agent.sum("tigerbeetle_probe_answering{")
            if Int(answering) == replicas { break }
            usleep(200_000)
        }
        guard Int(answering) == replicas else { throw BenchError("only \(Int(answering)) of \(replicas) replicas answering") }
        results.add("probe_replicas_answering", answering, "replicas")

        // Threads and CPU while probing every replica each second.
        let threads = Self.threads(of: pid)
        results.add("probe_agent_threads", Double(threads.count), "threads")
        results.add("probe_prober_threads", Double(threads.filter { $0.name.hasPrefix("probe") }.count), "threads")
        func roundTrips() throws -> (sum: Double, count: Double) {
            let samples = try agent.samples()
            return (
                samples.filter { $0.key.hasPrefix("tigerbeetle_probe_rtt_seconds_sum{") }.reduce(0) { $0 + $1.value },
                samples.filter { $0.key.hasPrefix("tigerbeetle_probe_rtt_seconds_count{") }.reduce(0) { $0 + $1.value }
            )
        }
        let first = try roundTrips()
        let before = Self.threads(of: pid)
        let started = Date()
        usleep(UInt32(seconds * 1_000_000))
        let elapsed = Date().timeIntervalSince(started)
        let after = Self.threads(of: pid)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        func cpu(_ filter: (ThreadStat) -> Bool) -> Double {
            let end = after.filter(filter).reduce(0) { $0 + $1.ticks }
            let start = before.filter(filter).reduce(0) { $0 + $1.ticks }
            return Double(end - start) / ticks / elapsed * 100
        }
        results.add("probe_agent_cpu", cpu { _ in true }, "% of one core", decimals: 1)
        results.add("probe_prober_cpu", cpu { $0.name.hasPrefix("probe") }, "% of one core", decimals: 1)
        let last = try roundTrips()
        results.add("probe_rtt_mean", (last.sum - first.sum) / max(1, last.count - first.count) * 1e6, "µs", decimals: 0)
        results.add("probe_pongs_per_second", (last.count - first.count) / elapsed, "pongs/s")

        // Detection among them all: stop one replica (kill -STOP), continue it.
        let detection = try Self.detectHang(of: replicas / 2, perCluster: perCluster, farm: farm, agent: agent)
        results.add("probe_hung_detected_after", detection.hung, "s", decimals: 2)
        results.add("probe_answering_again_after", detection.answering, "s", decimals: 2)
    }

    /// Stops replica `target` of the farm, then continues it: how long until the agent reads it hung, and answering
    /// again, polled every 20 ms on the replica's cluster page (small at any fleet size).
    static func detectHang(
        of target: Int, perCluster: Int, farm: FakeReplicaFarm, agent: AgentProcess
    ) throws -> (hung: Double, answering: Double) {
        let hex = String(target / perCluster + 1, radix: 16)
        let cluster = String(repeating: "0", count: 32 - hex.count) + hex
        let key =
            "tigerbeetle_probe_answering{address=\"\(Self.address(in: farm.config, at: target))\",cluster=\"\(cluster)\",replica=\"\(target % perCluster)\"}"
        func wait(for value: Double) throws -> Double {
            let start = Date()
            while Date().timeIntervalSince(start) < 10 {
                if try agent.samples(path: "/metrics/clusters/\(cluster)")[key] == value { return Date().timeIntervalSince(start) }
                usleep(20_000)
            }
            throw BenchError("\(key) never became \(value)")
        }
        _ = try wait(for: 1)
        farm.command("stop \(target)")
        let hung = try wait(for: 0)
        farm.command("cont \(target)")
        return (hung, try wait(for: 1))
    }

    struct ThreadStat {
        var name: String
        var ticks: Int
    }

    /// Every thread of `pid`: its name and its user + system CPU ticks (/proc/pid/task/*/stat).
    static func threads(of pid: Int32) -> [ThreadStat] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return nil }
            let name = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the name: state is field 3; utime and stime are fields 14 and 15.
            guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
            return ThreadStat(name: name, ticks: user + system)
        }
    }

    /// The `n`-th replica address in the farm's config text.
    static func address(in config: String, at n: Int) -> String {
        let addresses = config.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.flatMap {
            $0.element.split(separator: ",")
        }
        return String(addresses[n])
    }
}
