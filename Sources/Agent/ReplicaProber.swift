import Config
import Foundation
import Health
import MetricStore
import Synchronization

/// Probes every watched replica's TCP address every interval, each replica on
/// its own thread: a hung connect or a slow name lookup delays no other probe.
final class ReplicaProber: Sendable {
    private struct Target: Equatable {
        var key: ReplicaKey
        var address: String
    }

    private struct Plan: Equatable {
        var targets: [Target] = []
        var interval: Duration
        var timeout: Duration
    }

    private let results = Mutex<[ReplicaKey: ProbeResult]>([:])
    /// Probes not made for lack of local resources (EMFILE): the replica's last result stands.
    private let localErrors = Atomic<UInt64>(0)
    var localErrorCount: UInt64 { localErrors.load(ordering: .relaxed) }
    /// What is probed, and the threads probing it; replaced on reload.
    private let running: Mutex<(plan: Plan, workers: [WorkerThread], started: Bool)>

    /// Called when a probe's outcome flips (success ↔ failure, or the first result).
    private let onChange: @Sendable () -> Void

    init(clusters: [WatchedCluster], interval: Duration, timeout: Duration, onChange: @escaping @Sendable () -> Void = {}) {
        self.onChange = onChange
        running = Mutex((Self.plan(clusters, interval, timeout), [], false))
    }

    private static func plan(_ clusters: [WatchedCluster], _ interval: Duration, _ timeout: Duration) -> Plan {
        Plan(targets: clusters.flatMap { cluster in
            cluster.addresses.enumerated().map { Target(key: ReplicaKey(cluster: cluster.id, replica: $0), address: $1) }
        }, interval: interval, timeout: timeout)
    }

    /// The latest result of every replica probed so far.
    func snapshot() -> [ReplicaKey: ProbeResult] {
        results.withLock { $0 }
    }

    func start() {
        running.withLock { running in
            running.workers = running.plan.targets.map { startWorker($0, running.plan) }
            running.started = true
        }
    }

    /// Probes a new set of replicas (on reload). Results of replicas whose address is unchanged are
    /// kept, so a reload does not make a healthy replica look unknown for a probe interval.
    func reconfigure(clusters: [WatchedCluster], interval: Duration, timeout: Duration) {
        let plan = Self.plan(clusters, interval, timeout)
        let (old, oldPlan) = running.withLock { running -> ([WorkerThread], Plan) in
            guard running.plan != plan else { return ([], plan) }
            defer {
                running.plan = plan
                running.workers = running.started ? plan.targets.map { startWorker($0, plan) } : []
            }
            return (running.workers, running.plan)
        }
        // Stop the old threads together: each may be inside a probe for up to the timeout.
        DispatchQueue.concurrentPerform(iterations: old.count) { old[$0].stop() }
        let kept = Set(plan.targets.filter { oldPlan.targets.contains($0) }.map(\.key))
        results.withLock { results in
            for key in results.keys where !kept.contains(key) { results[key] = nil }
        }
    }

    private func startWorker(_ target: Target, _ plan: Plan) -> WorkerThread {
        let worker = WorkerThread(name: "probe-\(target.key.replica)")
        worker.start { [self] in
            while worker.isRunning {
                let began = WallClock.monotonic()
                let probed = TCPProbe.run(address: target.address, timeout: plan.timeout)
                guard worker.isRunning else { return }
                guard let result = probed else {
                    localErrors.add(1, ordering: .relaxed)
                    next(after: began, plan.interval, worker)
                    continue
                }
                let flipped = results.withLock { results -> Bool in
                    defer { results[target.key] = result }
                    return results[target.key]?.success != result.success
                }
                if flipped { onChange() }
                next(after: began, plan.interval, worker)
            }
        }
        return worker
    }

    /// Sleeps until the next tick, waking often enough to stop promptly.
    private func next(after began: Int64, _ interval: Duration, _ worker: WorkerThread) {
        let next = began + interval.nanoseconds
        while worker.isRunning, WallClock.monotonic() < next {
            usleep(UInt32(min(50_000, max(1_000, (next - WallClock.monotonic()) / 1_000))))
        }
    }

    func stop() {
        let workers = running.withLock { running in
            defer { running.workers = []; running.started = false }
            return running.workers
        }
        DispatchQueue.concurrentPerform(iterations: workers.count) { workers[$0].stop() }
    }
}
