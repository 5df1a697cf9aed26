import Agent
import Config
import Foundation
import Glibc
import TestSupport
import Testing

/// Every datagram and setting that once killed the agent or left it unbounded, against the built binary
/// as an attacker on the StatsD network would send them: the process keeps running and serving, and
/// what it refused is counted.
@Suite(.serialized, .timeLimit(.minutes(3)), .tags(.endToEnd)) struct HostileDatagramTests {
    static let watchedHex = String(repeating: "0", count: 32)

    /// One agent watching cluster 0 (three loopback listeners) for every case; each case's datagrams,
    /// then the page must answer with the datagrams counted.
    static let crashers: [(name: String, datagrams: [String], counter: String, expected: Double)] = [
        (
            "status above Int.max (literal cluster:ab)", ["tb.replica_status:10000000000000000000|g|#cluster:ab,replica:0"],
            "beetlewatch_statsd_replica_lines_ignored_total{reason=\"invalid_cluster_tag\"}", 1
        ),
        (
            "status above Int.max", ["tb.replica_status:10000000000000000000|g|#cluster:\(watchedHex),replica:0"],
            "beetlewatch_statsd_invalid_signals_total{reason=\"out_of_range\",signal=\"replica_status\"}", 1
        ),
        (
            "status below Int.min", ["tb.replica_status:-1e19|g|#cluster:\(watchedHex),replica:0"],
            "beetlewatch_statsd_invalid_signals_total{reason=\"out_of_range\",signal=\"replica_status\"}", 2
        ),
        (
            "view 1 then 1e20",
            ["tb.replica_view:1|g|#cluster:\(watchedHex),replica:0", "tb.replica_view:1e20|g|#cluster:\(watchedHex),replica:0"],
            "beetlewatch_statsd_invalid_signals_total{reason=\"out_of_range\",signal=\"replica_view\"}", 1
        ),
        (
            "peer connections 1e19",
            [
                "tb.replica_status:0|g|#cluster:\(watchedHex),replica:0\ntb.replica_status:0|g|#cluster:\(watchedHex),replica:1",
                "tb.message_bus_connections:1e19|g|#cluster:\(watchedHex),replica:0,peer:replica",
            ], "beetlewatch_statsd_invalid_signals_total{reason=\"out_of_range\",signal=\"message_bus_connections\"}", 1
        ),
        (
            "a forged cluster fake1", ["tb.replica_status:1|g|#cluster:fake1,replica:0"],
            "beetlewatch_statsd_replica_lines_ignored_total{reason=\"invalid_cluster_tag\"}", 2
        ),
        (
            "sample rates 1e-300 and 1e-320", ["c.tiny:1|c|@1e-300\nt.tiny:5|ms|@1e-320"],
            "beetlewatch_statsd_parse_errors_total{reason=\"invalid_sample_rate\"}", 2
        ),
        ("a counter overflowing", ["c.big:1e308|c\nc.big:1e308|c"], "beetlewatch_statsd_parse_errors_total{reason=\"value_overflow\"}", 1),
        ("a __name__ tag", ["k.test:1|c|#__name__:v"], "beetlewatch_statsd_reserved_labels_total", 1),
        ("a quantile tag on a timer", ["t.lat:3|ms|#quantile:0.5"], "beetlewatch_statsd_reserved_labels_total", 2),
    ]

    @Test func noDatagramKillsTheAgentAndThePageStaysValid() async throws {
        let replicas = (0..<3).map { FakeReplica(replica: UInt8($0)) }
        defer { replicas.forEach { $0.close() } }
        let agent = try RunningBeetlewatch([
            "--tigerbeetle.cluster", "0", "--tigerbeetle.addresses", replicas.map(\.address).joined(separator: ","),
        ])
        try await agent.waitUntilServing()
        var sent = 0.0
        for crasher in Self.crashers {
            for datagram in crasher.datagrams {
                try agent.send(datagram)
                sent += 1
            }
            let samples = try await agent.samples { $0["beetlewatch_statsd_datagrams_total"] == sent }
            #expect(agent.process.isRunning, "\(crasher.name): the agent died")
            #expect(samples["beetlewatch_statsd_datagrams_total"] == sent, "\(crasher.name)")
            #expect(samples[crasher.counter] == crasher.expected, "\(crasher.name): \(crasher.counter)")
            #expect(try await HTTPTestClient.request(agent.base + "/health").status == 200, "\(crasher.name)")
        }
        let page = try await HTTPTestClient.request(agent.base + "/metrics").body
        let check = try Promtool.checkMetrics(page)
        // promtool lints HELP text style (exit 3 for lint only); anything else is a parse failure.
        #expect(check.status == 0 || !check.output.contains("error"), "\(check.output.prefix(500))")
        #expect(!page.contains("__name__"))
        #expect(page.contains("exported_quantile=\"0.5\""))
        let status = try await HTTPTestClient.request(agent.base + "/api/v1/status").body
        #expect(!status.contains("fake1"))
        #expect(agent.terminate().status == 0)
    }

    /// 15,000 datagrams with new cluster ids once left 15,001 replica entries, 15,003 webhooks, a 213 MB agent
    /// and a 30 s scrape. Now: 16 tracked and expiring with the TTL, no page for an unwatched cluster,
    /// memory and the page bounded.
    @Test(.tags(.wallClock)) func aFloodOfForgedClustersIsBounded() async throws {
        let replicas = (0..<3).map { FakeReplica(replica: UInt8($0)) }
        let recorder = WebhookRecorder()
        defer {
            replicas.forEach { $0.close() }
            recorder.close()
        }
        let agent = try RunningBeetlewatch([
            "--tigerbeetle.cluster", "0", "--tigerbeetle.addresses", replicas.map(\.address).joined(separator: ","),
            "--limits.max-series", "1000", "--statsd.ttl", "10s",
            "--alert.webhook-url", "http://127.0.0.1:\(recorder.port)/",
        ])
        try await agent.waitUntilServing()
        let before = try Self.residentKiB(agent.process.pid)
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort))
        let floodStart = Date()
        for n in 1...15_000 {
            let id = String(format: "%032x", n)
            try sender.send(Array("tb.replica_status:1|g|#cluster:\(id),replica:0".utf8))
            if n % 500 == 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        var samples: [String: Double] = [:]
        var processed = -1.0
        // Until everything that arrived is processed.
        while processed != samples["beetlewatch_statsd_datagrams_total"] {
            processed = samples["beetlewatch_statsd_datagrams_total"] ?? -1
            try await Task.sleep(for: .milliseconds(300))
            samples = try await agent.samples()
        }
        let after = try Self.residentKiB(agent.process.pid)
        // Idle after the flood (once 15,000 clusters were evaluated every second: a whole core).
        let cpuBefore = try Self.cpuSeconds(agent.process.pid)
        try await Task.sleep(for: .seconds(2))
        let idleCPU = try Self.cpuSeconds(agent.process.pid) - cpuBefore
        let start = Date()
        let page = try await HTTPTestClient.request(agent.base + "/metrics").body
        let scrape = Date().timeIntervalSince(start)
        let ignored = samples["beetlewatch_statsd_replica_lines_ignored_total{reason=\"unwatched_cluster_limit\"}"] ?? 0
        print(
            "forged-cluster flood: \(Int(processed)) datagrams processed, \(Int(ignored)) ignored at the limit; RSS \(before) → \(after) KiB; idle CPU \(String(format: "%.0f", idleCPU / 2 * 100))% of a core; /metrics \(page.utf8.count) bytes in \(String(format: "%.1f", scrape * 1000)) ms"
        )
        #expect(processed > 10_000)
        #expect(samples["beetlewatch_statsd_unwatched_clusters"] == 16)
        // 16 tracked at a time; on a loaded machine the flood may outlast the 10 s TTL, and expired ones make room.
        let ttlWindows = 1 + Int(Date().timeIntervalSince(floodStart) / 10)
        #expect(ignored >= processed - Double(16 * ttlWindows) && ignored < processed)
        #expect(after - before < 20_000, "resident memory grew \(after - before) KiB")
        #expect(idleCPU < 0.5, "\(idleCPU) s of CPU in 2 s idle")
        #expect(page.utf8.count < 1_000_000)
        // Past the TTL the forged clusters are gone, and no webhook ever named one.
        samples = try await agent.samples(within: 20) { $0["beetlewatch_statsd_unwatched_clusters"] == 0 }
        #expect(samples["beetlewatch_statsd_unwatched_clusters"] == 0)
        let forged = recorder.received.filter { String(decoding: $0.body, as: UTF8.self).contains(String(format: "%032x", 1)) }
        #expect(forged.isEmpty, "\(forged.count) webhooks named a forged cluster")
        #expect(agent.terminate().status == 0)
    }

    /// Durations that validation once accepted and the agent later trapped on (exit 132) now stop it at start,
    /// naming the field, and are refused on SIGHUP with the agent running on.
    @Test(arguments: [
        ("--probe.interval", "2562047h"), ("--probe.timeout", "2562047h"), ("--shutdown.timeout", "2562047h"),
        ("--alert.resend-delay", "1000000h"),
    ])
    func anOutOfRangeDurationStopsTheStartNamingTheField(_ flag: String, _ value: String) throws {
        let result = try BeetlewatchBinary.run([
            "run", flag, value, "--alertmanager.url", "http://127.0.0.1:1/",
            "--web.listen-address", "127.0.0.1:0", "--statsd.listen-udp", "127.0.0.1:0",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains(String(flag.dropFirst(2))) && result.stderr.contains("must be"), "\(result.stderr)")
    }

    @Test func anOutOfRangeDurationIsRefusedOnReload() async throws {
        let file = ReloadableConfig()
        defer { file.remove() }
        try file.write("probe: {interval: 2s}\n")
        let agent = try RunningBeetlewatch(["--config.file", file.path])
        try await agent.waitUntilServing()
        try file.write("probe: {interval: 2562047h}\n")
        agent.signal(SIGHUP)
        let samples = try await agent.samples { $0["beetlewatch_config_reloads_total"] == 1 }
        #expect(samples["beetlewatch_config_last_reload_successful"] == 0)
        // Refused whole: the agent keeps its 2 s interval and serves on (a scrape after the reload was counted).
        #expect(try await agent.samples()["beetlewatch_config_reloads_total"] == 1)
        #expect(agent.process.isRunning)
        #expect(agent.terminate().status == 0)
    }

    /// A cluster given by flag and file (the file's entry was once dropped silently), and an address item
    /// that is a mapping (once dropped, watching two replicas of three): the start stops, naming both.
    @Test func ambiguousClustersStopTheStart() throws {
        let file = ReloadableConfig()
        defer { file.remove() }
        try file.write("tigerbeetle:\n  clusters:\n    - {cluster: 0, addresses: \"4001,4002,4003\"}\n")
        let twice = try BeetlewatchBinary.run([
            "run", "--config.file", file.path, "--tigerbeetle.cluster", "0", "--tigerbeetle.addresses", "3001,3002,3003",
            "--web.listen-address", "127.0.0.1:0", "--statsd.listen-udp", "127.0.0.1:0",
        ])
        #expect(twice.status == 2)
        #expect(
            twice.stderr.contains("--tigerbeetle.cluster and \(file.path): tigerbeetle.clusters[0]")
                && twice.stderr.contains("defined twice"),
            "\(twice.stderr)")
        try file.write("tigerbeetle:\n  clusters:\n    - {cluster: 1, addresses: [39001, {a: b}, 39002]}\n")
        let item = try BeetlewatchBinary.run([
            "run", "--config.file", file.path, "--web.listen-address", "127.0.0.1:0", "--statsd.listen-udp", "127.0.0.1:0",
        ])
        #expect(item.status == 2)
        #expect(item.stderr.contains("tigerbeetle.clusters[0].addresses[1]"), "\(item.stderr)")
    }

    /// User and system CPU time the process has used, in seconds (/proc/PID/stat, clock ticks of 1/100 s).
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return (Double(fields[11]) ?? 0) / 100 + (Double(fields[12]) ?? 0) / 100
    }

    static func residentKiB(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

/// With 64 open files, probes that cannot get a socket (EMFILE) once reported live replicas unreachable
/// (a false NO QUORUM). Now the start warns, and a probe beetlewatch could not make is not the replica's fault.
/// tcp mode needs a socket per probe, so it meets EMFILE; vsr mode keeps its connections and does not.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct FileDescriptorTests {
    @Test(.tags(.wallClock), arguments: ["tcp", "vsr"]) func runningOutOfFilesIsNoReplicaFault(mode: String) async throws {
        let replicas = (0..<3).map { FakeReplica(replica: UInt8($0)) }
        defer { replicas.forEach { $0.close() } }
        let script = "ulimit -n 64; exec \"$0\" \"$@\""
        let agent = try RunningBeetlewatch(
            [
                "--tigerbeetle.cluster", "0", "--tigerbeetle.addresses", replicas.map(\.address).joined(separator: ","),
                "--probe.interval", "100ms", "--probe.mode", mode,
            ], shell: script)
        try await agent.waitUntilServing()
        let log = try String(contentsOf: agent.log, encoding: .utf8)
        #expect(log.contains("open-file limit is lower than beetlewatch may need"), "\(log)")
        try await Task.sleep(for: .milliseconds(500))
        // Hold connections until the agent has no descriptor left, for a second and a half of probes. Connects the
        // agent cannot accept wait in its backlog: made from a thread of their own, not from the test runner's few.
        let port = agent.webPort
        let held: [Int32] = await withCheckedContinuation { done in
            Thread {
                var held: [Int32] = []
                for i in 0..<80 {
                    let fd = loopbackConnection(to: port, from: "127.0.0.\(1 + i % 4)", receiveTimeout: 1)
                    if fd >= 0 { held.append(fd) }
                }
                usleep(1_500_000)
                done.resume(returning: held)
            }.start()
        }
        held.forEach { close($0) }
        var samples: [String: Double] = [:]
        for _ in 0..<100 where samples["beetlewatch_probe_local_errors_total"] == nil {
            try await Task.sleep(for: .milliseconds(100))
            samples = (try? await agent.samples()) ?? [:]
        }
        // Let a probe interval pass after the descriptors are free again, then read the results.
        try await Task.sleep(for: .milliseconds(300))
        samples = (try? await agent.samples()) ?? samples
        let probes = samples.filter { $0.key.hasPrefix("tigerbeetle_probe_success{") }
        print(
            "64 open files, \(mode): \(held.count) connections held; probe local errors \(samples["beetlewatch_probe_local_errors_total"] ?? -1); probes \(probes.values.sorted())"
        )
        if mode == "tcp" {
            #expect((samples["beetlewatch_probe_local_errors_total"] ?? 0) > 0)
        } else {
            #expect(samples["beetlewatch_probe_local_errors_total"] == 0, "kept-open connections need no new descriptor")
        }
        #expect(probes.count == 3 && probes.values.allSatisfy { $0 == 1 }, "\(probes)")
        let after = try String(contentsOf: agent.log, encoding: .utf8)
        #expect(!after.contains("TigerBeetleReplicaUnreachable"))
        #expect(agent.terminate().status == 0)
    }
}
