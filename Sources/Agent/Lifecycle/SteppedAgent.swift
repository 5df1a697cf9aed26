import Alerting
import Config
import Foundation
import Health
import Logging
import MetricStore
import TigerBeetle
import VSR

/// The agent's parts without its threads, stepped by a caller: the prober's loop (`ProbeLoop`, its `ProbeSession`s and
/// `CanarySession`s) on a given `ProbeNetwork`, StatsD datagrams applied to the store, health (`HealthSource`), and the
/// alert loop's evaluation (`AlertLoop.evaluate`, `AlertEngine`), and the receivers' channels (`NotificationChannel`, its
/// `DeliveryQueue`: what to POST when, retries, what an answer means), all on a given clock. This is how `beetlewatch-sim`
/// runs the agent's code on a simulated network and clock from a seed: one thread, so a seed replays bit for bit. The
/// threads that drive these parts in `Agent` (and the UDP socket, the HTTP server, the POSTs) are not here: the caller
/// answers each delivery the channels ask for.
public final class SteppedAgent: @unchecked Sendable {
    public private(set) var config: AgentConfig
    private let live: SharedValue<LiveSettings>
    /// What the caller changes in the alert loop's settings, at the start and at every reload.
    private let adjust: (inout AlertLoopSettings) -> Void
    private let clock: any AgentClock
    private let store: SharedStore
    /// The hand-off the UDP reader fills and the ingest thread empties, as in `Agent`: each datagram goes through it.
    private let queue: IngestQueue
    private let prober: ReplicaProber
    private let loop: ProbeLoop
    private let health: HealthSource
    private let alertLoop: AlertLoop
    private let changed: ChangeFlag
    /// When the alert loop evaluates next with nothing changed (monotonic).
    public private(set) var alertsDue: MonotonicInstant
    /// The thread that made it: every step runs there.
    private let owner = pthread_self()

    /// A flag the prober and ingest raise when what the alert loop reads changed (the agent's alert wake-up).
    private final class ChangeFlag: @unchecked Sendable {
        var raised = false {
            didSet { if raised { version &+= 1 } }
        }
        /// How many times it was raised: what health reads changed since a caller last looked if this did.
        var version: UInt64 = 0
    }

    /// The notifications the alert loop planned, in order, until taken.
    private final class Planned: @unchecked Sendable {
        var notifications: [NotificationPlanner.Notification] = []
    }
    private let planned = Planned()

    /// A POST a receiver's channel asks for.
    public struct Delivery: Sendable {
        /// The receiver (its channel's name).
        public var receiver: String
        public var body: Data
        /// Which try of this notification (from 1).
        public var attempt: Int
        /// How long the channel waits for the answer (the receiver's `timeout`).
        public var timeout: Duration
    }

    /// What a receiver's channel does next.
    public enum DeliveryStep: Sendable {
        /// POST it, and give the answer to `answer(_:status:error:)`.
        case send(Delivery)
        /// Nothing before this instant (a retry's pause).
        case wait(until: MonotonicInstant)
        case idle
    }

    /// - Parameters:
    ///   - jitter: makes each channel's source of retry jitter (seeded, so a seed replays).
    ///   - adjust: changes the alert loop's settings after they are made from `config` (to break a rule on purpose and
    ///     see the simulator catch it).
    public init(
        config: AgentConfig, clock: any AgentClock, network: any ProbeNetwork, logger: Logger,
        jitter: @escaping @Sendable () -> any RandomNumberGenerator & Sendable,
        adjust: @escaping (inout AlertLoopSettings) -> Void = { _ in }
    ) throws {
        self.config = config
        self.clock = clock
        self.adjust = adjust
        let changed = ChangeFlag()
        self.changed = changed
        let live = SharedValue(LiveSettings(config, startedAt: clock.wall()))
        self.live = live
        let store = SharedStore(options: Agent.storeOptions(config))
        self.store = store
        queue = IngestQueue(clock: clock)
        let prober = try ReplicaProber(
            clusters: config.watchedClusters, timing: config.probeTiming, canary: config.canaryTiming, clock: clock, network: network,
            logger: logger,
            releaseHint: { key in store.signals().signals(of: key)?[.release].map { Release(packed: UInt32($0)) } },
            onChange: { changed.raised = true })
        self.prober = prober
        loop = ProbeLoop(prober: prober)
        let health = HealthSource(live: live, store: store, prober: prober)
        self.health = health
        let settings = Self.alertSettings(config, adjust)
        let planned = self.planned
        // Channels are made (one for each receiver) and not started: `deliveryStep` and `answer` step them.
        alertLoop = AlertLoop(
            settings: settings.settings, health: health.report(now:), clock: clock, wakeup: clock.makeWakeup(), logger: logger,
            planned: { planned.notifications += $0 }, jitter: jitter)
        alertsDue = clock.monotonic()
    }

    /// The alert loop's settings for `config`, as the caller adjusts them.
    private static func alertSettings(_ config: AgentConfig, _ adjust: (inout AlertLoopSettings) -> Void) -> AlertLoopSettings {
        var settings = AlertLoopSettings(Agent.alertSettings(config, webPort: 9917, tls: false))
        adjust(&settings)
        return settings
    }

    /// A configuration reload, as `Agent.reload` applies one (`Agent.applyReloadable`). The receivers stay as they are
    /// (a channel a reload retires drains on a thread of its own, which a stepped agent has not).
    public func reload(_ new: AgentConfig) {
        assertOnOwner()
        precondition(
            new.receivers == config.receivers && new.alertmanagerURLs == config.alertmanagerURLs, "a stepped reload keeps the receivers")
        Agent.applyReloadable(
            new, live: live, store: store, prober: prober, alertLoop: alertLoop, alertSettings: Self.alertSettings(new, adjust).settings)
        config = new
        changed.raised = true
    }

    /// One turn of the prober's loop: what its network has for it now, and every session whose deadline came.
    public func probe() {
        assertOnOwner()
        loop.runOnce()
    }

    /// One StatsD datagram, as the UDP reader hands a batch of one to the ingest queue and the ingest thread applies the
    /// chunk it takes: the queue's chunks (their bounds, their reuse) run here as in the agent.
    public func ingest(datagram: [UInt8]) {
        assertOnOwner()
        // An empty datagram is one of no bytes (the reader hands those on too), from a buffer that exists.
        let bytes = datagram.isEmpty ? [0] : datagram
        bytes.withUnsafeBytes { raw in queue.append(raw.baseAddress!, datagram.count) }
        queue.flush()
        guard let chunk = queue.take(until: clock.monotonic()) else {
            preconditionFailure("a flushed datagram is in a chunk the ingest side can take")
        }
        if store.ingest(now: clock.wall(), { chunk.forEachDatagram($0) }) { changed.raised = true }
        queue.recycle(chunk)
    }

    /// Expires stale series, as the ingest thread does once a second.
    public func expire() {
        assertOnOwner()
        let now = clock.wall()
        store.update { _ = $0.expire(now: now) }
    }

    /// Evaluates the alert rules when the alert loop would: when what it reads changed, or when its wait ran out.
    /// Returns whether it evaluated.
    @discardableResult
    public func evaluateAlertsIfDue() -> Bool {
        assertOnOwner()
        let monotonic = clock.monotonic()
        guard changed.raised || monotonic >= alertsDue else { return false }
        changed.raised = false
        let now = clock.wall()
        let due = alertLoop.evaluate(now: now)
        alertsDue = monotonic + AlertLoop.wait(due: due, now: now)
        return true
    }

    /// Whether the prober or ingest changed what the alert loop reads since it last evaluated.
    public var alertsPending: Bool { changed.raised }

    /// Goes up whenever the prober or ingest changed what the health report reads (time passing aside).
    public var inputsVersion: UInt64 { changed.version }

    /// The alerts pending and firing.
    public var alerts: [Alert] { alertLoop.active }

    /// The notifications planned since the last call (to the configured receivers; what pages).
    public func takeNotifications() -> [NotificationPlanner.Notification] {
        assertOnOwner()
        defer { planned.notifications = [] }
        return planned.notifications
    }

    /// The receivers' names (their channels').
    public var receivers: [String] { alertLoop.channels.map(\.name) }

    /// What receiver `name`'s channel does now. After a `.send`, ask again only once it is answered.
    public func deliveryStep(receiver name: String) -> DeliveryStep {
        assertOnOwner()
        guard let channel = channel(name) else { return .idle }
        switch channel.nextStep() {
        case .send(let entry, let attempt):
            return .send(Delivery(receiver: name, body: entry.body, attempt: attempt, timeout: channel.timeout))
        case .wait(let until): return .wait(until: until)
        case .idle: return .idle
        }
    }

    /// The answer to receiver `name`'s delivery: its HTTP status, or nil and the error (refused, timed out).
    public func answer(_ name: String, status: Int?, error: String?) {
        assertOnOwner()
        channel(name)?.answer(HTTPClient.Response(status: status, body: Data(), error: error))
    }

    private func channel(_ name: String) -> NotificationChannel? {
        let channel = alertLoop.channels.first { $0.name == name }
        assert(channel != nil, "no receiver \(name)")
        return channel
    }

    /// The health report now.
    public func healthReport() -> HealthReport { health.report(now: clock.wall()) }

    /// `/ready`'s verdict now.
    public func readiness() -> ReadinessVerdict {
        readiness(of: healthReport())
    }

    /// `/ready`'s verdict on `report` (a health report just made: one evaluation for both).
    public func readiness(of report: HealthReport) -> ReadinessVerdict {
        Readiness.evaluate(report, require: config.readyRequire)
    }

    /// Series held by the store (bounded by `--limits.max-series`).
    public var seriesCount: Int { store.snapshot().seriesCount }

    private func assertOnOwner() {
        assert(pthread_equal(owner, pthread_self()) != 0, "a SteppedAgent is stepped by the thread that made it")
    }
}

/// The alert loop's settings, as `SteppedAgent`'s caller may adjust them.
public struct AlertLoopSettings {
    var settings: AlertLoop.Settings

    init(_ settings: AlertLoop.Settings) { self.settings = settings }

    /// How long QuorumLost waits for the canary to decide (zero: it does not wait).
    public var quorumDecisionWait: Duration {
        get { settings.quorumDecisionWait }
        set { settings.quorumDecisionWait = newValue }
    }

    /// The hold before any alert fires.
    public var minimumFor: Duration {
        get { settings.minimumFor }
        set { settings.minimumFor = newValue }
    }
}
