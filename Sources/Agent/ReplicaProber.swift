import Config
import Foundation
import Health
import MetricStore
import Synchronization

/// Probes every watched replica's TCP address every interval, each replica on
/// its own thread: a hung connect or a slow name lookup delays no other probe.
final class ReplicaProber: Sendable {
    private let results = Mutex<[ReplicaKey: ProbeResult]>([:])
    private let workers: [(key: ReplicaKey, address: String, worker: WorkerThread)]
    private let interval: Duration
    private let timeout: Duration

    /// Called when a probe's outcome flips (success ↔ failure, or the first result).
    private let onChange: @Sendable () -> Void

    init(clusters: [WatchedCluster], interval: Duration, timeout: Duration, onChange: @escaping @Sendable () -> Void = {}) {
        self.interval = interval
        self.timeout = timeout
        self.onChange = onChange
        workers = clusters.flatMap { cluster in
            cluster.addresses.enumerated().map { replica, address in
                (ReplicaKey(cluster: cluster.id, replica: replica), address, WorkerThread(name: "probe-\(replica)"))
            }
        }
    }

    /// The latest result of every replica probed so far.
    func snapshot() -> [ReplicaKey: ProbeResult] {
        results.withLock { $0 }
    }

    func start() {
        for (key, address, worker) in workers {
            worker.start { [self] in
                while worker.isRunning {
                    let began = WallClock.monotonic()
                    let result = TCPProbe.run(address: address, timeout: timeout)
                    let flipped = results.withLock { results -> Bool in
                        defer { results[key] = result }
                        return results[key]?.success != result.success
                    }
                    if flipped { onChange() }
                    // Sleep until the next tick, waking often enough to stop promptly.
                    let next = began + interval.nanoseconds
                    while worker.isRunning, WallClock.monotonic() < next {
                        usleep(UInt32(min(50_000, max(1_000, (next - WallClock.monotonic()) / 1_000))))
                    }
                }
            }
        }
    }

    func stop() {
        for entry in workers { entry.worker.stop() }
    }
}
