import Agent
import Alerting
import Config
import Health
import Logging
import TigerBeetle

/// One simulated run from a seed: the agent's own prober, ingest, health and alert evaluation (`SteppedAgent`, on its
/// defaults) watching a `SimulatedCluster` over a `SimulatedNetwork`, with the faults its `FaultPlan` draws, one thread,
/// time moved from event to event. Every step is checked by the `InvariantMonitor` against the ground truth.
public struct Simulation {
    public struct Outcome: Sendable {
        public var seed: UInt64
        public var plan: FaultPlan
        public var trace: Trace
        public var violation: InvariantMonitor.Violation?
        /// Simulated time covered and steps taken.
        public var simulated: Duration
        public var steps: Int
        public var sent: [String: Int]
        /// What the webhook receiver read, in order, with when (simulated time).
        public var received: [(at: MonotonicInstant, message: WebhookMessage)]

        /// The run's last line: the seed, its verdict and the trace's digest.
        public var summary: String {
            let verdict = violation.map { "FAILED \($0.name)" } ?? "ok"
            return "seed \(seed): \(verdict), \(FaultPlan.seconds(simulated)) s simulated in \(steps) steps, digest \(trace.digestHex)"
        }
    }

    /// Changes to the agent's alert loop, to break a rule on purpose (`--break`).
    public enum Breakage: String, CaseIterable, Sendable {
        /// QuorumLost does not wait for the canary to decide, and no alert holds a probe interval.
        case quorumHold = "quorum-hold"
    }

    public static let defaultDuration: Duration = .seconds(120)
    static let replicaCount = 3

    public static func run(seed: UInt64, duration: Duration = defaultDuration, breaking: Breakage? = nil) -> Outcome {
        var random = SeededRandom(seed: seed)
        var plan = FaultPlan.draw(replicas: replicaCount, duration: duration, using: &random)
        var lifeRandom = SeededRandom(seed: seed ^ 0x5851_F42D_4C95_7F2D)
        plan.drawLifecycleFaults(replicas: replicaCount, using: &lifeRandom)
        var pagerRandom = SeededRandom(seed: seed ^ 0xD1B5_4A32_D192_ED03)
        plan.drawReceiverFaults(using: &pagerRandom)
        var reloadRandom = SeededRandom(seed: seed ^ 0x3C6E_F372_FE94_F82B)
        plan.drawReloads(using: &reloadRandom)
        return run(plan: plan, seed: seed, random: random, named: false, breaking: breaking)
    }

    /// A run of a plan written out (a timeline a test wants to see the agent through), the rest of its randomness (the
    /// network's, the StatsD weather's, the retries' jitter) from `seed`. `named`: the agent is configured with the
    /// replicas' host names (`replica-N.sim`), which the simulated network resolves.
    public static func run(plan: FaultPlan, seed: UInt64 = 1, named: Bool = false, breaking: Breakage? = nil) -> Outcome {
        run(plan: plan, seed: seed, random: SeededRandom(seed: seed), named: named, breaking: breaking)
    }

    private static func run(plan: FaultPlan, seed: UInt64, random: SeededRandom, named: Bool, breaking: Breakage?) -> Outcome {
        var random = random
        let clock = SimulatedClock()
        let cluster = SimulatedCluster(id: 0x7e57, replicas: replicaCount)
        let addresses = (0..<replicaCount).map { "10.77.0.\(10 + $0):3000" }
        let network = SimulatedNetwork(cluster: cluster, addresses: addresses, clock: clock, random: SeededRandom(seed: random.next()))
        var config = AgentConfig()
        config.tigerBeetleCluster = String(cluster.id)
        config.tigerBeetleAddresses = addresses
        if named {
            for i in 0..<replicaCount { network.names["replica-\(i).sim"] = "10.77.0.\(10 + i)" }
            config.tigerBeetleAddresses = (0..<replicaCount).map { "replica-\($0).sim:3000" }
        }
        // One receiver: what the planner sends it is what beetlewatch decided to page; what the simulated receiver heard
        // through the channel (its queue, retries and the receiver's faults) is what on-call saw.
        config.webhookURLs = ["http://pager.invalid/hook"]
        let logger = Logger(label: "beetlewatch-sim") { _ in SwiftLogNoOpLogHandler() }
        var trace = Trace()
        trace.add(at: .zero, "seed \(seed)")
        for line in plan.description.split(separator: "\n") { trace.add(at: .zero, String(line)) }
        let agent: SteppedAgent
        do {
            let jitterSeed = seed ^ 0x9E6C_63D0_676A_9A99
            agent = try SteppedAgent(
                config: config, clock: clock, network: network, logger: logger, jitter: { SeededRandom(seed: jitterSeed) },
                adjust: { settings in
                    if breaking == .quorumHold {
                        settings.quorumDecisionWait = .zero
                        settings.minimumFor = .zero
                    }
                })
        } catch {
            preconditionFailure("the simulated agent did not start: \(error)")
        }
        var world = World(
            plan: plan, clock: clock, cluster: cluster, network: network, agent: agent, random: random,
            syncLineRandom: SeededRandom(seed: seed ^ 0x2545_F491_4F6C_DD1D),
            monitor: InvariantMonitor(cluster: ClusterID.hex(cluster.id), quiet: plan.isQuiet, maxSeries: config.limitsMaxSeries),
            truth: GroundTruth(replicas: replicaCount), trace: trace)
        let violation = world.run()
        return Outcome(
            seed: seed, plan: plan, trace: world.trace, violation: violation, simulated: clock.now - .zero, steps: world.steps,
            sent: network.sent,
            received: world.receiver.messages)
    }
}
