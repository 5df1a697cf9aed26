import Foundation

/// The real agent (a child process) receiving over loopback UDP from this process, at fixed offered
/// rates. Loss = lines sent − lines the agent counted (the sum of its `bench_lines` counters);
/// the kernel's and the queue's drop counters are reported beside it.
struct IngestBench {
    var rates: [Double]
    var searchLines: Int
    var confirmLines: Int

    struct Outcome {
        var sent: Int
        var received: Int
        var kernelDrops: Double
        var queueDrops: Double
        var seconds: Double
        var lost: Int { sent - received }
    }

    /// One run against a running agent, measured as deltas of its counters.
    static func measure(agent: AgentProcess, sender: LoadSender, lines: Int, rate: Double) throws -> Outcome {
        let before = try agent.samples()
        let received0 = before.filter { $0.key.hasPrefix("bench_lines") }.reduce(0) { $0 + $1.value }
        let start = Date()
        let sent = try sender.send(to: agent.statsdPort, lines: lines, rate: rate)
        let seconds = Date().timeIntervalSince(start)
        // Wait until the agent's count stops moving.
        var received = received0
        var stableSince = Date()
        while Date().timeIntervalSince(stableSince) < 0.5 {
            usleep(100_000)
            let now = try agent.sum("bench_lines")
            if now != received {
                received = now
                stableSince = Date()
            }
            if Int(received - received0) >= sent { break }
        }
        let after = try agent.samples()
        func delta(_ name: String) -> Double { (after[name] ?? 0) - (before[name] ?? 0) }
        return Outcome(
            sent: sent, received: Int(received - received0),
            kernelDrops: delta("beetlewatch_statsd_udp_receive_drops_total"),
            queueDrops: delta("beetlewatch_statsd_queue_dropped_datagrams_total"), seconds: seconds)
    }

    func run(into results: inout BenchResults) throws {
        let agent = try AgentProcess(statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false))
        defer { agent.stop() }
        let sender = LoadSender()
        var bestLossless = 0.0
        for rate in rates {
            let outcome = try Self.measure(agent: agent, sender: sender, lines: searchLines, rate: rate)
            let loss = Double(outcome.lost) / Double(outcome.sent) * 100
            print(
                "  offered \(Int(rate)) lines/s: sent \(outcome.sent), counted \(outcome.received), lost \(outcome.lost) (\(String(format: "%.3f", loss))%), kernel drops \(Int(outcome.kernelDrops)) datagrams, queue drops \(Int(outcome.queueDrops))"
            )
            if outcome.lost == 0 { bestLossless = rate } else { break }
        }
        results.add("ingest_highest_lossless_rate_search", bestLossless, "lines/s")
        if bestLossless > 0 {
            let confirm = try Self.measure(agent: agent, sender: sender, lines: confirmLines, rate: bestLossless)
            results.add("ingest_confirm_rate", bestLossless, "lines/s")
            results.add("ingest_confirm_lines_sent", Double(confirm.sent), "lines")
            results.add("ingest_confirm_lines_lost", Double(confirm.lost), "lines")
            results.add("ingest_confirm_kernel_drops", confirm.kernelDrops, "datagrams")
        }
        let flatOut = try Self.measure(agent: agent, sender: sender, lines: searchLines, rate: 0)
        print(
            "  flat out: sent \(flatOut.sent) at \(Int(Double(flatOut.sent) / flatOut.seconds)) lines/s, counted \(flatOut.received), lost \(flatOut.lost), kernel drops \(Int(flatOut.kernelDrops)) datagrams, queue drops \(Int(flatOut.queueDrops))"
        )
        results.add("ingest_flat_out_offered", Double(flatOut.sent) / flatOut.seconds, "lines/s")
        results.add("ingest_flat_out_loss", Double(flatOut.lost) / Double(flatOut.sent) * 100, "%", decimals: 2)
    }
}
