import CNetShim
import Config
import Foundation
import Glibc
import Health
import Logging
import Probe
import Synchronization
import TigerBeetle
import VSR

/// Probes every watched replica, and runs each watched cluster's canary, from one thread: each replica is a
/// `ProbeSession` and each cluster's canary a `CanarySession` (the protocols and their timing, pure), their sockets
/// non-blocking under one epoll set. Host names are resolved through the network (in the agent, `NameResolver`'s two
/// threads, started at the first name) within the probe's deadline; IP literals at once. One thread, three with names,
/// however many replicas.
final class ReplicaProber: Sendable {
    /// What is probed: replaced on reload, applied by the loop.
    struct Plan: Sendable, Equatable {
        var targets: [Target]
        var timing: ProbeTiming
        var canaries: [CanaryTarget]
    }

    struct Target: Sendable, Hashable {
        var key: ReplicaKey
        var address: String
    }

    /// A watched cluster's canary: its id (32 hex digits) and its replicas' addresses, in order.
    struct CanaryTarget: Sendable, Hashable {
        var cluster: String
        var addresses: [String]
        var timing: CanaryTiming
    }

    let results = Mutex<[ReplicaKey: ProbeResult]>([:])
    /// Each watched cluster's canary's latest result, by cluster id.
    let canaryResults = Mutex<[String: CanaryResult]>([:])
    let logger: Logger
    let pendingPlan: Mutex<Plan?>
    let localErrors = Atomic<UInt64>(0)
    private let worker = WorkerThread(name: "probe")
    /// Where its connections go: sockets under epoll in the agent, a simulated network in beetlewatch-sim.
    let network: any ProbeNetwork
    /// Monotonic for the sessions' schedule, wall for the results it publishes.
    let clock: any AgentClock
    let releaseHint: @Sendable (ReplicaKey) -> Release?
    let onChange: @Sendable () -> Void

    /// Probes not made for lack of local resources (EMFILE): the replica's last result stands.
    var localErrorCount: UInt64 { localErrors.load(ordering: .relaxed) }

    /// - Parameters:
    ///   - canary: the canary's timing; nil: no canary (`--canary.enabled=false`).
    ///   - network: where connections go (default: sockets under epoll).
    ///   - releaseHint: a replica's release from its StatsD, if any (read when connecting).
    ///   - onChange: called when a replica's outcome, view or release changes.
    init(
        clusters: [WatchedCluster], timing: ProbeTiming, canary: CanaryTiming? = nil, clock: any AgentClock,
        network: (any ProbeNetwork)? = nil, logger: Logger = Logger(label: "beetlewatch"),
        releaseHint: @escaping @Sendable (ReplicaKey) -> Release? = { _ in nil }, onChange: @escaping @Sendable () -> Void = {}
    ) throws {
        pendingPlan = Mutex(Self.plan(clusters, timing, canary: canary))
        self.logger = logger
        self.clock = clock
        self.releaseHint = releaseHint
        self.onChange = onChange
        self.network = try network ?? EpollNetwork(clock: clock)
    }

    static func plan(_ clusters: [WatchedCluster], _ timing: ProbeTiming, canary: CanaryTiming?) -> Plan {
        Plan(
            targets: clusters.flatMap { cluster in
                cluster.addresses.enumerated().map { Target(key: ReplicaKey(cluster: cluster.id, replica: $0), address: $1) }
            }, timing: timing,
            canaries: canary.map { timing in
                clusters.filter { $0.canary && !$0.addresses.isEmpty && $0.addresses.count <= 256 }.map {
                    CanaryTarget(cluster: $0.id, addresses: $0.addresses, timing: timing)
                }
            } ?? [])
    }

    /// Every watched cluster's canary's latest result, times on the wall clock.
    func canarySnapshot() -> [String: CanaryResult] {
        canaryResults.withLock { $0 }
    }

    /// The latest result of every replica probed so far, times on the wall clock.
    func snapshot() -> [ReplicaKey: ProbeResult] {
        results.withLock { $0 }
    }

    func start() {
        let loop = ProbeLoop(prober: self)
        worker.start { [worker] in
            while worker.isRunning { loop.runOnce() }
            loop.closeAll()
        }
    }

    /// Probes a new set of replicas, or with new timing (reload). Sessions of replicas whose address is
    /// unchanged go on, connection and result kept.
    func reconfigure(clusters: [WatchedCluster], timing: ProbeTiming, canary: CanaryTiming?) {
        pendingPlan.withLock { $0 = Self.plan(clusters, timing, canary: canary) }
        signalWake()
    }

    func stop() {
        if worker.requestStop() {
            signalWake()
            _ = worker.join(waitingAtMost: .seconds(5))
        }
        network.shutdown()
    }

    func signalWake() { network.wake() }

}
