import Foundation
import Glibc
import Health
import MetricStore
import Probe
import TestSupport
import Testing
import TigerBeetle
import VSR

@testable import Agent

/// The prober end to end: real sockets on loopback, fake replicas answering as recorded ones do.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct ReplicaProberTests {
    /// Pings every 200 ms; a pong may take the default 1 s (a shorter timeout flags healthy fakes as hung when the
    /// machine is loaded and their thread waits for a core).
    static let fast = ProbeTiming(
        mode: .vsr, interval: .milliseconds(200), timeout: .seconds(1), defaultRelease: Release(major: 0, minor: 17, patch: 9))

    func prober(
        _ addresses: [String], cluster: UInt128 = 0, timing: ProbeTiming = fast,
        releaseHint: @escaping @Sendable (ReplicaKey) -> Release? = { _ in nil }
    ) -> ReplicaProber {
        let id = String(cluster, radix: 16).leftPadded(to: 32)
        return try! ReplicaProber(
            clusters: [WatchedCluster(id: id, name: String(cluster), addresses: addresses)], timing: timing, clock: SystemClock(),
            releaseHint: releaseHint)
    }

    func key(_ replica: Int, cluster: UInt128 = 0) -> ReplicaKey {
        ReplicaKey(cluster: String(cluster, radix: 16).leftPadded(to: 32), replica: replica)
    }

    /// Polls until `condition` holds for replica `replica`'s result, or `seconds` pass; returns the result and when.
    func waitFor(
        _ prober: ReplicaProber, _ replica: Int, within seconds: Double = 10, cluster: UInt128 = 0,
        _ condition: (ProbeResult) -> Bool
    ) async throws -> (ProbeResult?, Double) {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if let result = prober.snapshot()[key(replica, cluster: cluster)], condition(result) {
                return (result, Date().timeIntervalSince(start))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return (prober.snapshot()[key(replica, cluster: cluster)], Date().timeIntervalSince(start))
    }

    @Test func aRunningReplicaAnswersPingsOnOneConnection() async throws {
        let replica = FakeReplica(cluster: 5, replica: 0)
        replica.set(view: 42)
        defer { replica.close() }
        let prober = prober([replica.address], cluster: 5)
        prober.start()
        defer { prober.stop() }
        let (result, _) = try await waitFor(prober, 0, cluster: 5) { $0.roundTrips >= 5 }
        #expect(result?.outcome == .answering)
        #expect(result?.view == 42)
        #expect(result?.release == "0.17.9")
        #expect(result!.durationSeconds < 0.1)
        #expect(replica.connections == 1)
        #expect(
            replica.pings.allSatisfy {
                $0.command == PingClient.command && $0.checksumValid && $0.cluster == 5
                    && $0.release == Release(major: 0, minor: 17, patch: 9)
            })
        // One random client id for the connection.
        #expect(Set(replica.pings.map(\.client)).count == 1)
        #expect(replica.pings[0].client != 0)
    }

    /// kill -STOP: hung after two unanswered pings; kill -CONT: answering again at once.
    @Test func aStoppedReplicaIsHungAndRecoversOnContinue() async throws {
        let replica = FakeReplica()
        defer { replica.close() }
        let prober = prober([replica.address])
        prober.start()
        defer { prober.stop() }
        _ = try await waitFor(prober, 0) { $0.outcome == .answering }
        replica.stop()
        // Two pings 0.2 s apart, each given 1 s: hung within 2.2 s. The exact timing is ProbeSessionTests' (virtual
        // time) and the live cluster's; here, with the whole suite beside it, only that it happens.
        let (hung, _) = try await waitFor(prober, 0, within: 20) { $0.outcome == .hung }
        #expect(hung?.outcome == .hung)
        #expect(hung?.error?.hasPrefix("no pong to the last") == true, "\(hung?.error ?? "")")
        #expect(hung?.reachableSince == nil)
        replica.resume()
        let (back, _) = try await waitFor(prober, 0, within: 20) { $0.outcome == .answering }
        #expect(back?.outcome == .answering)
    }

    /// kill -9: the open connection is reset and the reconnect refused.
    @Test func aKilledReplicaIsUnreachableAtOnce() async throws {
        let replica = FakeReplica()
        let prober = prober([replica.address])
        prober.start()
        defer { prober.stop() }
        _ = try await waitFor(prober, 0) { $0.outcome == .answering }
        replica.close()
        let (result, _) = try await waitFor(prober, 0, within: 20) { $0.outcome == .unreachable }
        #expect(result?.outcome == .unreachable)
        #expect(result?.reachableSince == nil)
    }

    /// A replica of another cluster closes the connection at once; the prober backs off (1 s, 2 s, ...).
    @Test func aWrongClusterIsClosedAndRetriedWithBackoff() async throws {
        let replica = FakeReplica(cluster: 9)
        defer { replica.close() }
        let prober = prober([replica.address], cluster: 5)
        prober.start()
        defer { prober.stop() }
        let (result, _) = try await waitFor(prober, 0, cluster: 5) { $0.outcome == .unreachable }
        #expect(result?.error?.hasPrefix("the replica closed the connection") == true, "\(result?.error ?? "")")
        try await Task.sleep(for: .milliseconds(2500))
        // At 0, 1 and 3 s: not one connection a probe interval (0.2 s).
        #expect((2...3).contains(replica.connections), "\(replica.connections)")
    }

    /// A release the cluster does not accept: the primary evicts, backups stay silent (and are not hung).
    @Test func anEvictionNamesTheReleaseAndStatsDsReleaseIsUsedNext() async throws {
        let newer = Release(major: 0, minor: 18, patch: 0)
        let replicas = (0..<2).map { FakeReplica(replica: UInt8($0)) }
        for replica in replicas { replica.set(release: newer, accepting: newer...newer) }
        defer { replicas.forEach { $0.close() } }
        let hint = SharedValue<Release?>(nil)
        let prober = prober(replicas.map(\.address), releaseHint: { _ in hint.value })
        prober.start()
        defer { prober.stop() }
        let (evicted, _) = try await waitFor(prober, 0) { $0.outcome == .evicted }
        #expect(
            evicted?.error
                == "replica 0 evicted a ping claiming release 0.17.9: that release is too low for it; set --probe.release to the cluster's release"
        )
        let (backup, _) = try await waitFor(prober, 1) { $0.outcome == .hung }
        #expect(backup?.outcome == .hung)
        #expect(backup?.release == nil)
        // What the evaluator makes of it: the backup is waiting, not hung; the cluster notes the eviction.
        let report = HealthEvaluator.evaluate(
            watched: [WatchedCluster(id: key(0).cluster, name: "0", addresses: replicas.map(\.address))],
            signals: TigerBeetleSignals(), probes: prober.snapshot(),
            policy: HealthPolicy(startedAt: SystemClock().wall(), probeResultTTL: .seconds(10)),
            now: SystemClock().wall())
        #expect(report.clusters[0].replicas[1].state == .unknown)
        #expect(report.clusters[0].notes.first?.hasPrefix("replica 0 evicted beetlewatch's ping") == true)
        // The replica's StatsD says 0.18.0: the backup answers at its next connect.
        hint.update { $0 = newer }
        let (answered, _) = try await waitFor(prober, 1, within: 15) { $0.outcome == .answering }
        #expect(answered?.release == "0.18.0")
    }

    @Test func tcpModeConnectsAndClosesAndTellsRefusedFromTimedOut() async throws {
        let up = LoopbackListener()
        let (full, fillers) = LoopbackListener.neverAnswering()
        defer {
            up.close()
            fillers.forEach { close($0) }
            full.close()
        }
        var timing = Self.fast
        timing.mode = .tcp
        timing.timeout = .milliseconds(500)
        let prober = prober(
            [up.address, "127.0.0.1:\(LoopbackListener.closedPort())", full.address, "no-such-host.invalid:3000"], timing: timing)
        prober.start()
        defer { prober.stop() }
        let (connected, _) = try await waitFor(prober, 0) { _ in true }
        #expect(connected?.outcome == .connected)
        #expect(connected!.durationSeconds < 0.1)
        let (refused, _) = try await waitFor(prober, 1) { _ in true }
        #expect(refused?.outcome == .unreachable)
        #expect(refused?.error == "Connection refused")
        let (timedOut, _) = try await waitFor(prober, 2) { _ in true }
        #expect(timedOut?.error == "connect timed out after 0.5s")
        #expect(timedOut!.durationSeconds >= 0.45 && timedOut!.durationSeconds < 1.0)
        let (unresolvable, _) = try await waitFor(prober, 3) { _ in true }
        #expect(unresolvable?.error == "cannot resolve no-such-host.invalid")
    }

    /// One loop for all replicas: the agent (its own process) watching 40 clusters of 5 fake replicas, one
    /// of them stopped, probes them with one thread (addresses, not names: no resolver threads); every other replica
    /// answers.
    @Test func twoHundredReplicasTakeOneThread() async throws {
        let farm = ReplicaFarm(
            (1...40).flatMap { cluster in (0..<5).map { ReplicaFarm.Replica(cluster: UInt128(cluster), index: UInt8($0), primary: $0 == 0) }
            })
        defer { farm.close() }
        farm.stop(7)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-\(UUID().uuidString).yml")
        defer { try? FileManager.default.removeItem(at: config) }
        let clusters = (1...40).map { cluster in
            "    - {cluster: \(cluster), addresses: \"\((0..<5).map { farm.address((cluster - 1) * 5 + $0) }.joined(separator: ","))\"}"
        }
        try ("tigerbeetle:\n  clusters:\n" + clusters.joined(separator: "\n") + "\n").write(to: config, atomically: true, encoding: .utf8)
        let agent = try RunningBeetlewatch(["--config.file", config.path, "--probe.interval", "200ms"])
        defer { _ = agent.terminate() }
        try await agent.waitUntilServing()
        let samples = try await agent.samples(within: 20) { samples in
            samples.filter { $0.key.hasPrefix("tigerbeetle_probe_answering{") && $0.value == 1 }.count == 199
                && samples.filter { $0.key.hasPrefix("tigerbeetle_probe_answering{") && $0.value == 0 }.count == 1
        }
        #expect(samples.filter { $0.key.hasPrefix("tigerbeetle_probe_answering{") }.count == 200)
        // Replica 7: the third of cluster 2 (hex 2), hung.
        #expect(
            samples.first { $0.key.hasPrefix("tigerbeetle_probe_answering{") && $0.value == 0 }?.key.contains(
                "cluster=\"\(String(repeating: "0", count: 31))2\",replica=\"2\"") == true)
        let names = Self.threadNames(of: agent.process.pid)
        #expect(names.filter { $0.hasPrefix("probe") }.sorted() == ["probe"], "\(names)")
    }

    @Test func aReloadKeepsTheConnectionsOfUnchangedReplicas() async throws {
        let replicas = (0..<2).map { FakeReplica(replica: UInt8($0)) }
        defer { replicas.forEach { $0.close() } }
        let cluster = WatchedCluster(id: key(0).cluster, name: "0", addresses: [replicas[0].address])
        let prober = try ReplicaProber(clusters: [cluster], timing: Self.fast, clock: SystemClock())
        prober.start()
        defer { prober.stop() }
        _ = try await waitFor(prober, 0) { $0.outcome == .answering }
        var slower = Self.fast
        slower.interval = .milliseconds(300)
        prober.reconfigure(
            clusters: [WatchedCluster(id: cluster.id, name: "0", addresses: [replicas[0].address, replicas[1].address])], timing: slower,
            canary: nil)
        _ = try await waitFor(prober, 1) { $0.outcome == .answering }
        #expect(replicas[0].connections == 1)
        #expect(prober.snapshot().count == 2)
        prober.reconfigure(clusters: [], timing: slower, canary: nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(prober.snapshot().isEmpty)
    }

    /// Thread names of a process (/proc/PID/task/*/comm).
    static func threadNames(of pid: Int32) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap {
            try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
