import Alerting
import Foundation
import Glibc
import Synchronization

/// The long run: the real agent for `minutes` at a steady offered rate (half the lossless rate by
/// default), scraped every 5 s, watching a one-replica cluster whose TCP port flaps (down, then up,
/// every `flapSeconds`) while its StatsD keeps coming, and reloaded (SIGHUP) every 5 minutes. It passes
/// when nothing is lost, resident memory ends where it settled after the first minutes, every alert
/// that fired has resolved, and every reload was applied.
struct SoakBench {
    var minutes: Double
    var rate: Double
    var flapSeconds: Double = 30

    struct Sample {
        var second: Double
        var residentMiB: Double
        var counted: Double
        var sent: Int
        var scrapeMilliseconds: Double
    }

    func run(into results: inout BenchResults) throws -> Bool {
        let receiver = try ArrivalRecorder()
        let replica = FlappingReplica()
        let cluster = String(repeating: "0", count: 32)
        let agent = try AgentProcess(
            statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false),
            extraArguments: [
                "--alert.webhook-url", "http://127.0.0.1:\(receiver.port)/", "--tigerbeetle.cluster", "0",
                "--tigerbeetle.addresses", "127.0.0.1:\(replica.port)", "--probe.interval", "1s",
            ])
        defer {
            agent.stop()
            receiver.close()
            replica.close()
        }

        let sender = LoadSender()
        let sent = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        // The load: one-second slices at the offered rate, paced by sleeping.
        let load = Thread {
            while !stop.load(ordering: .relaxed) {
                let lines = (try? sender.send(to: agent.statsdPort, lines: Int(rate), rate: rate, spin: false)) ?? 0
                sent.add(lines, ordering: .relaxed)
            }
        }
        // The replica's own StatsD, every 5 s, as TigerBeetle sends it every 10 s.
        let statsd = loopbackUDPSocket(port: agent.statsdPort)
        defer { close(statsd) }
        func replicaStatsD() {
            let text = "tb.replica_status:0|g|#cluster:\(cluster),replica:0\ntb.replica_commit_max:1|g|#cluster:\(cluster),replica:0\n"
            _ = text.withCString { Glibc.send(statsd, $0, strlen($0), 0) }
        }
        replicaStatsD()
        load.start()

        let start = Date()
        let total = minutes * 60
        var samples: [Sample] = []
        var scrapes: [Double] = []
        var flaps = 0
        var lastStatsD = Date.distantPast
        var lastSample = Date.distantPast
        var lastReload = Date()
        var reloads = 0
        print("  minute  resident MiB  lines counted  lines sent  scrape ms  replica")
        while Date().timeIntervalSince(start) < total {
            let elapsed = Date().timeIntervalSince(start)
            // Down for the second half of every period; up for the last period, so alerts can resolve.
            let down = elapsed < total - 2 * flapSeconds && elapsed.truncatingRemainder(dividingBy: 2 * flapSeconds) >= flapSeconds
            if down == replica.isUp {
                if down { flaps += 1 }
                replica.set(up: !down)
            }
            if Date().timeIntervalSince(lastStatsD) >= 5 {
                replicaStatsD()
                lastStatsD = Date()
            }
            if Date().timeIntervalSince(lastReload) >= 300 {
                kill(agent.process.processIdentifier, SIGHUP)
                reloads += 1
                lastReload = Date()
            }
            let scrapeStart = Date()
            let page = try RawHTTP.get(port: agent.webPort, path: "/metrics")
            let scrapeMilliseconds = Date().timeIntervalSince(scrapeStart) * 1000
            scrapes.append(scrapeMilliseconds)
            if Date().timeIntervalSince(lastSample) >= 30 {
                lastSample = Date()
                let counted = Self.sum(page.body, prefix: "bench_lines")
                let sample = Sample(
                    second: elapsed, residentMiB: Double(agent.residentBytes) / 1_048_576, counted: counted,
                    sent: sent.load(ordering: .relaxed), scrapeMilliseconds: scrapeMilliseconds)
                samples.append(sample)
                print(
                    String(
                        format: "  %6.1f  %12.1f  %13.0f  %10d  %9.1f  %@", elapsed / 60, sample.residentMiB, counted, sample.sent,
                        scrapeMilliseconds, replica.isUp ? "up" : "down"))
                fflush(nil)
            }
            usleep(5_000_000)
        }
        stop.store(true, ordering: .relaxed)
        while !load.isFinished { usleep(100_000) }
        replica.set(up: true)
        replicaStatsD()

        // Settle: every line counted, every alert resolved (Unreachable resolves on the next probe).
        var counted = 0.0
        let settleDeadline = Date().addingTimeInterval(60)
        var active: [AlertsDocument.Entry] = []
        repeat {
            usleep(500_000)
            counted = try agent.sum("bench_lines")
            active = try JSONDecoder().decode(
                AlertsDocument.self, from: Data(RawHTTP.get(port: agent.webPort, path: "/api/v1/alerts").body.utf8)
            ).alerts
        } while (Int(counted) < sent.load(ordering: .relaxed) || !active.isEmpty) && Date() < settleDeadline
        let final = try agent.samples()

        let messages = receiver.received.compactMap { try? JSONDecoder().decode(WebhookMessage.self, from: $0) }
        func notifications(_ name: AlertName, _ status: String) -> Int {
            messages.filter { $0.groupLabels["alertname"] == name.rawValue && $0.status == status }.count
        }
        let totalSent = sent.load(ordering: .relaxed)
        let lost = totalSent - Int(counted)
        // Memory: where it settled (the first sample after 2 minutes) against the end.
        let settled = samples.first { $0.second >= 120 } ?? samples.first
        let end = Double(agent.residentBytes) / 1_048_576
        let peak = samples.map(\.residentMiB).max() ?? end
        scrapes.sort()

        results.add("soak_minutes", minutes, "min", decimals: 1)
        results.add("soak_offered_rate", rate, "lines/s")
        results.add("soak_lines_sent", Double(totalSent), "lines")
        results.add("soak_lines_lost", Double(lost), "lines")
        results.add("soak_kernel_drops", final["beetlewatch_statsd_udp_receive_drops_total"] ?? 0, "datagrams")
        results.add("soak_queue_drops", final["beetlewatch_statsd_queue_dropped_datagrams_total"] ?? 0, "datagrams")
        results.add("soak_resident_settled", settled?.residentMiB ?? 0, "MiB", decimals: 1)
        results.add("soak_resident_end", end, "MiB", decimals: 1)
        results.add("soak_resident_peak", peak, "MiB", decimals: 1)
        results.add("soak_scrapes", Double(scrapes.count), "scrapes")
        results.add("soak_scrape_p50", percentile(scrapes, 0.5), "ms", decimals: 1)
        results.add("soak_scrape_p99", percentile(scrapes, 0.99), "ms", decimals: 1)
        results.add("soak_replica_down_phases", Double(flaps), "flaps")
        for name in [AlertName.replicaUnreachable, .quorumLost] {
            results.add("soak_\(name.rawValue)_firing_notifications", Double(notifications(name, "firing")), "webhooks")
            results.add("soak_\(name.rawValue)_resolved_notifications", Double(notifications(name, "resolved")), "webhooks")
        }
        results.add("soak_alerts_active_at_end", Double(active.count), "alerts")
        let reloaded = Int(final["beetlewatch_config_reloads_total"] ?? -1)
        results.add("soak_reloads", Double(reloaded), "SIGHUPs applied")

        let memoryFlat = end <= (settled?.residentMiB ?? end) * 1.10 + 4
        // A one-replica cluster: each down phase is a lost quorum, paged as TigerBeetleQuorumLost, which holds the
        // replica's own TigerBeetleReplicaUnreachable back (it adds nothing).
        let alertsHonest =
            active.isEmpty && notifications(.quorumLost, "firing") == flaps
            && notifications(.quorumLost, "resolved") == flaps && notifications(.replicaUnreachable, "firing") == 0
        let passed =
            lost == 0 && memoryFlat && alertsHonest && reloaded == reloads && final["beetlewatch_config_last_reload_successful"] == 1
        print(
            passed
                ? "SOAK PASS"
                : "SOAK FAIL: lost \(lost), memory \(settled?.residentMiB ?? 0) → \(end) MiB, active alerts \(active.map(\.alertname)), flaps \(flaps), reloads \(reloaded) of \(reloads)"
        )
        return passed
    }

    static func sum(_ page: String, prefix: String) -> Double {
        page.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }
}

/// A loopback TCP port that accepts (a live replica) or refuses (a dead one), switched by the soak.
final class FlappingReplica: @unchecked Sendable {
    let port = AgentProcess.freePort(udp: false)
    private let listener = Mutex<Int32>(-1)

    init() {
        set(up: true)
    }

    var isUp: Bool { listener.withLock { $0 >= 0 } }

    func set(up: Bool) {
        listener.withLock { fd in
            if up && fd < 0, let listener = loopbackTCPListener(port: port, backlog: 16) {
                fd = listener
                acceptConnections(on: listener) { Glibc.close($0) }
            } else if !up && fd >= 0 {
                shutdown(fd, Int32(SHUT_RDWR))
                Glibc.close(fd)
                fd = -1
            }
        }
    }

    func close() { set(up: false) }
}
