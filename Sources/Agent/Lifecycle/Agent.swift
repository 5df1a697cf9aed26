import Alerting
import Config
import Foundation
import Exposition
import Health
import Logging
import MetricStore
import Synchronization
import TigerBeetle
import VSR

/// The running agent: UDP receiver → ingest queue → ingest thread → store,
/// served over HTTP. Binding happens in `init`, so a bad address fails early.
public final class Agent: Sendable {
    public static let version = "0.1.0"

    /// The configuration in force, with what health reads on every scrape worked out once; replaced on reload.
    private struct LiveSettings {
        var config: AgentConfig
        var watched: [WatchedCluster]
        var policy: HealthPolicy

        init(_ config: AgentConfig, startedAt: Int64) {
            self.config = config
            watched = config.watchedClusters
            policy = config.healthPolicy(startedAt: startedAt)
        }
    }

    /// The configuration the agent started with: restart-only settings keep these values.
    public let startConfig: AgentConfig
    private let live: SharedValue<LiveSettings>
    private let reloadStatus: SharedValue<ReloadStatus>
    /// One reload at a time (SIGHUP and POST /-/reload may race).
    private let reloading = Mutex(())
    private let configSource: (@Sendable () throws -> AgentConfig)?
    private let receiver: UDPReceiver
    private let queue: IngestQueue
    private let pipeline: IngestThread
    private let state: SharedStore
    private let http: HTTPServer
    private let authGate: BasicAuthGate
    private let prober: ReplicaProber
    private let alertLoop: AlertLoop
    private let logger: Logger

    /// The configuration in force (the latest one loaded successfully).
    public var config: AgentConfig { live.value.config }
    /// The bound StatsD UDP port (useful with port 0).
    public var statsdPort: UInt16 { receiver.port }
    /// The bound HTTP port (useful with port 0).
    public var webPort: UInt16 { http.port }

    /// - Parameter configSource: reads the configuration again, for reloads (SIGHUP, `POST /-/reload`);
    ///   nil: reloads are refused.
    public init(config: AgentConfig, logger: Logger, configSource: (@Sendable () throws -> AgentConfig)? = nil) throws {
        let webConfig = try WebConfigFile.load(path: config.webConfigFile)
        self.startConfig = config
        self.configSource = configSource
        self.logger = logger
        let startedAt = WallClock.now()
        let live = SharedValue(LiveSettings(config, startedAt: startedAt))
        self.live = live
        let reloadStatus = SharedValue(ReloadStatus(lastSuccessAt: startedAt))
        self.reloadStatus = reloadStatus
        let options = MetricStore.Options(
            mode: config.statsdMapping,
            ttl: config.statsdTTLNanoseconds,
            tagLimits: LabelSet.Limits(maxTags: config.statsdMaxTags),
            reservedNames: SelfMetrics.reservedNames.union(HealthMetrics.reservedNames).union(AlertMetrics.reservedNames)
                .union(ReloadMetrics.reservedNames).union(ServerMetrics.reservedNames),
            maxSeries: config.limitsMaxSeries,
            watchedClusters: Set(config.watchedClusters.map(\.id)),
            maxUnwatchedClusters: config.limitsMaxUnwatchedClusters
        )
        let state = SharedStore(options: options)
        let queue = IngestQueue()
        let receiver = try UDPReceiver(address: config.statsdListenUDP, readBuffer: config.statsdReadBuffer,
                                       queue: queue, logger: logger)
        let build = BuildInfo(version: Self.version, swiftVersion: Self.swiftVersion)
        let mode = config.statsdMapping
        // The ingest thread and the prober wake the alert loop when what it reads changes.
        let alertWake = DispatchSemaphore(value: 0)
        // A replica's StatsD release, for the ping of a replica that has not answered yet.
        let releaseHint = { @Sendable (key: ReplicaKey) -> Release? in
            state.snapshot().signals.signals(of: key)?[.release].map { Release(packed: UInt32($0)) }
        }
        let prober = ReplicaProber(clusters: config.watchedClusters, timing: config.probeTiming, releaseHint: releaseHint,
                                   onChange: { alertWake.signal() })
        // Since when replicas trail their cluster: remembered across evaluations (scrapes and the alert loop).
        let progress = Mutex(ProgressTracker())
        let health = { @Sendable (store: MetricStore, now: Int64) -> HealthReport in
            let current = live.value
            let probes = prober.snapshot()
            return progress.withLock { progress in
                HealthEvaluator.evaluate(watched: current.watched, signals: store.signals, probes: probes, policy: current.policy,
                                         progress: &progress, now: now)
            }
        }
        let currentHealth = { @Sendable in health(state.snapshot(), WallClock.now()) }
        let lateHandler = LateHandler()
        let authGate = BasicAuthGate(lateHandler)
        authGate.update(users: webConfig.basicAuthUsers, exemptPaths: config.webAuthExemptPaths)
        let http = try HTTPServer(address: config.webListenAddress, handler: authGate, tls: webConfig.tls)
        let descriptors = FileDescriptorLimit.raise()
        let needed = FileDescriptorLimit.needed(httpConnections: http.limits.connections,
                                                replicas: config.watchedClusters.reduce(0) { $0 + $1.addresses.count })
        if descriptors < needed {
            logger.warning("the open-file limit is lower than beetlewatch may need; raise it (ulimit -n, LimitNOFILE=)", metadata: [
                "limit": "\(descriptors)", "needed": "\(needed)",
            ])
        }
        let alertLoop = AlertLoop(settings: Self.alertSettings(config, webPort: http.port, tls: webConfig.tls != nil),
                                  health: currentHealth, wake: alertWake, logger: logger)
        self.http = http
        self.authGate = authGate
        self.prober = prober
        self.alertLoop = alertLoop
        self.state = state
        self.queue = queue
        self.receiver = receiver
        self.pipeline = IngestThread(queue: queue, state: state, onSignalsChanged: { alertWake.signal() })
        lateHandler.set(AgentEndpoints(
            metricsPage: {
                let store = state.snapshot()
                let now = WallClock.now()
                let receiverStats = ReceiverStats(queueDrops: queue.drops, kernelDrops: receiver.kernelDrops(),
                                                  receiveBufferBytes: receiver.receiveBufferBytes)
                let own = SelfMetrics.families(ingest: store.stats, signals: store.signals, receiver: receiverStats,
                                               liveSeries: store.seriesCount, mode: mode, build: build)
                    + AlertMetrics.families(active: alertLoop.active, notifications: alertLoop.channels.map(\.stats),
                                           alertmanagers: alertLoop.alertmanagerCount)
                    + ReloadMetrics.families(reloadStatus.value)
                    + ServerMetrics.families(Self.serverStats(http: http, auth: authGate, prober: prober))
                return MetricsPage.render(store: store, extra: own + HealthMetrics.families(health(store, now)), now: now)
            },
            healthReport: currentHealth,
            alerts: { alertLoop.active },
            readyRequirement: { live.value.config.readyRequire },
            history: { alertLoop.history },
            version: Self.version,
            reload: { [weak self] in
                guard let self, live.value.config.webEnableLifecycle else { return nil }
                return { self.reload(trigger: "POST /-/reload") }
            }
        ))
    }

    /// The alert loop's settings from a configuration; links point at the web port, https when TLS is on.
    private static func alertSettings(_ config: AgentConfig, webPort: UInt16, tls: Bool) -> AlertLoop.Settings {
        AlertLoop.Settings(
            rules: config.alertRules, runbookURL: config.alertRunbookURL, receivers: config.receivers,
            alertmanagerURLs: config.alertmanagerURLs,
            externalURL: config.webExternalURL ?? "\(tls ? "https" : "http")://\(Self.hostname()):\(webPort)",
            resendDelay: config.alertResendDelay.nanoseconds,
            alertsOnUnwatchedClusters: config.alertsOnUnwatchedClusters,
            minimumFor: config.probeInterval.nanoseconds
        )
    }

    public func start() {
        pipeline.start()
        receiver.start()
        prober.start()
        alertLoop.start()
        logger.info("beetlewatch started", metadata: [
            "statsd": "\(startConfig.statsdListenUDP.host):\(statsdPort)",
            "web": "\(http.servesTLS ? "https" : "http")://\(startConfig.webListenAddress.host):\(webPort)",
            "mapping": "\(startConfig.statsdMapping.rawValue)",
            "watching": "\(Self.watchingText(config))",
        ])
    }

    private static func watchingText(_ config: AgentConfig) -> String {
        config.watchedClusters.map { "\($0.name)=\($0.addresses.joined(separator: ","))" }.joined(separator: " ")
    }

    /// Re-reads the configuration and applies it without losing series, alert state or queued
    /// notifications. An invalid configuration is refused, logged and counted; the running one
    /// stays in force. Returns nil on success, else why it was refused.
    @discardableResult
    public func reload(trigger: String = "SIGHUP") -> String? {
        reloading.withLock { _ in
            let refused: String?
            do {
                guard let configSource else { throw ReasonError("this agent was started without a configuration source") }
                let new = try configSource()
                let webConfig = try WebConfigFile.load(path: new.webConfigFile)
                try http.replaceTLS(webConfig.tls)
                apply(new, webConfig)
                let restartOnly = new.restartOnlyChanges(comparedTo: startConfig)
                if !restartOnly.isEmpty {
                    logger.warning("some settings take effect only after a restart", metadata: ["settings": "\(restartOnly.joined(separator: ", "))"])
                }
                logger.info("configuration reloaded", metadata: [
                    "trigger": "\(trigger)", "watching": "\(Self.watchingText(new))", "receivers": "\(new.receivers.count)",
                    "alertmanagers": "\(new.alertmanagerURLs.count)", "tls": "\(webConfig.tls != nil)", "users": "\(webConfig.basicAuthUsers.count)",
                ])
                refused = nil
            } catch {
                logger.error("configuration reload refused; the previous configuration stays in force",
                             metadata: ["trigger": "\(trigger)", "error": "\(error)"])
                refused = "\(error)"
            }
            let now = WallClock.now()
            reloadStatus.update { status in
                status.reloads += 1
                status.lastSuccessful = refused == nil
                if refused == nil { status.lastSuccessAt = now } else { status.failures += 1 }
            }
            return refused
        }
    }

    private func apply(_ new: AgentConfig, _ webConfig: WebConfigFile) {
        live.update { live in
            live = LiveSettings(new, startedAt: live.policy.startedAt)
        }
        state.update { $0.watch(clusters: Set(new.watchedClusters.map(\.id)), maxUnwatchedClusters: new.limitsMaxUnwatchedClusters) }
        prober.reconfigure(clusters: new.watchedClusters, timing: new.probeTiming)
        alertLoop.reconfigure(Self.alertSettings(new, webPort: http.port, tls: webConfig.tls != nil))
        authGate.update(users: webConfig.basicAuthUsers, exemptPaths: new.webAuthExemptPaths)
    }

    /// Stops receiving, applies what was already received, gives pending notifications
    /// up to `--shutdown.timeout`, then stops serving.
    public func stop() {
        let deadline = WallClock.monotonic() + config.shutdownTimeout.nanoseconds
        prober.stop()
        receiver.stop()
        pipeline.stop()
        alertLoop.stop(drainUntil: deadline)
        http.stop()
        logger.info("beetlewatch stopped")
    }

    private static func serverStats(http: HTTPServer, auth: BasicAuthGate, prober: ReplicaProber) -> ServerStats {
        var stats = http.stats
        stats.authFailures = auth.authFailures
        stats.probeLocalErrors = prober.localErrorCount
        return stats
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static var swiftVersion: String {
        #if compiler(>=6.4)
        "6.4+"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6.x"
        #endif
    }
}
