import Alerting
import Config
import Exposition
import Foundation
import Health
import Logging
import MetricStore
import Synchronization
import TigerBeetle
import VSR

/// The running agent: UDP receiver → ingest queue → ingest thread → store, the prober, the alert loop and its
/// channels, served over HTTP. Binding happens in `init`, so a bad address fails early.
public final class Agent: Sendable {
    public static let version = "0.1.0"

    /// The configuration the agent started with: restart-only settings keep these values.
    public let startConfig: AgentConfig
    private let live: SharedValue<LiveSettings>
    private let reloadStatus: SharedValue<ReloadStatus>
    /// One reload at a time (SIGHUP and POST /-/reload may race).
    private let reloading = Mutex(())
    private let configSource: (@Sendable () throws -> AgentConfig)?
    private let clock: any AgentClock
    private let receiver: UDPReceiver
    private let store: SharedStore
    private let http: HTTPServer
    private let authGate: BasicAuthGate
    private let prober: ReplicaProber
    private let alertLoop: AlertLoop
    /// Started in this order, stopped in reverse: the HTTP server (serving since init), the alert loop, the ingest
    /// thread, the UDP receiver, the prober.
    private let components: [any AgentComponent]
    private let logger: Logger

    /// The configuration in force (the latest one loaded successfully).
    public var config: AgentConfig { live.value.config }
    /// The bound StatsD UDP port (useful with port 0).
    public var statsdPort: UInt16 { receiver.port }
    /// The bound HTTP port (useful with port 0).
    public var webPort: UInt16 { http.port }

    /// - Parameters:
    ///   - configSource: reads the configuration again, for reloads (SIGHUP, `POST /-/reload`); nil: reloads are refused.
    ///   - clock: what every loop reads and sleeps on.
    public init(
        config: AgentConfig, logger: Logger, configSource: (@Sendable () throws -> AgentConfig)? = nil,
        clock: any AgentClock = SystemClock()
    ) throws {
        let webConfig = try WebConfigFile.load(path: config.webConfigFile)
        LargeBufferPolicy.apply()
        self.startConfig = config
        self.configSource = configSource
        self.clock = clock
        self.logger = logger
        let startedAt = clock.wall()
        let live = SharedValue(LiveSettings(config, startedAt: startedAt))
        self.live = live
        let reloadStatus = SharedValue(ReloadStatus(lastSuccessAt: startedAt))
        self.reloadStatus = reloadStatus
        let store = SharedStore(options: Self.storeOptions(config))
        self.store = store
        let queue = IngestQueue(clock: clock)
        let receiver = try UDPReceiver(
            address: config.statsdListenUDP, readBuffer: config.statsdReadBuffer,
            queue: queue, logger: logger)
        // The ingest thread and the prober wake the alert loop when what it reads changes.
        let alertWakeup = clock.makeWakeup()
        // A replica's StatsD release, for the ping of a replica that has not answered yet.
        let releaseHint = { @Sendable (key: ReplicaKey) -> Release? in
            store.signals().signals(of: key)?[.release].map { Release(packed: UInt32($0)) }
        }
        let prober = try ReplicaProber(
            clusters: config.watchedClusters, timing: config.probeTiming, canary: config.canaryTiming, clock: clock, logger: logger,
            releaseHint: releaseHint, onChange: { alertWakeup.signal() })
        let health = HealthSource(live: live, store: store, prober: prober)
        let lateHandler = LateHandler()
        let authGate = BasicAuthGate(lateHandler, clock: { clock.monotonic() })
        authGate.update(users: webConfig.basicAuthUsers, exemptPaths: config.webAuthExemptPaths)
        let http = try HTTPServer(address: config.webListenAddress, handler: authGate, tls: webConfig.tls, clock: clock)
        Self.checkFileDescriptorLimit(config, http: http, logger: logger)
        let alertLoop = AlertLoop(
            settings: Self.alertSettings(config, webPort: http.port, tls: webConfig.tls != nil),
            health: health.report(now:), clock: clock, wakeup: alertWakeup, logger: logger)
        let ingest = IngestThread(queue: queue, store: store, clock: clock, onSignalsChanged: { alertWakeup.signal() })
        self.http = http
        self.authGate = authGate
        self.prober = prober
        self.alertLoop = alertLoop
        self.receiver = receiver
        self.components = [http, alertLoop, ingest, receiver, prober]
        let metricsPage = AgentMetricsPage(
            store: store, queue: queue, receiver: receiver, alertLoop: alertLoop, reloadStatus: reloadStatus, http: http,
            authGate: authGate, prober: prober, health: health, mode: config.statsdMapping,
            build: BuildInfo(version: Self.version, swiftVersion: Self.swiftVersion))
        lateHandler.set(
            AgentEndpoints(
                metricsPage: { metricsPage.render(now: clock.wall(), scope: $0) },
                pagedClusters: {
                    let held = store.snapshot().clusterLabelValues(now: clock.wall())
                    return Set(live.value.config.watchedClusters.map(\.id)).union(held).sorted()
                },
                listenAddress: { [address = config.webListenAddress, port = http.port] in Self.scrapeAddress(address, port: port) },
                healthReport: { health.report(now: clock.wall()) },
                alerts: { alertLoop.active },
                readyRequirement: { live.value.config.readyRequire },
                history: { alertLoop.history },
                version: Self.version,
                lifecycleEnabled: { live.value.config.webEnableLifecycle },
                reload: { [weak self] in
                    self?.reload(trigger: "POST /-/reload") ?? .failure(ReloadRefusal(reason: "the agent is stopping"))
                }
            ))
    }

    static func storeOptions(_ config: AgentConfig) -> MetricStore.Options {
        MetricStore.Options(
            mode: config.statsdMapping,
            ttl: config.statsdTTL,
            tagLimits: LabelSet.Limits(maxTags: config.statsdMaxTags),
            reservedNames: SelfMetrics.reservedNames.union(HealthMetrics.reservedNames).union(AlertMetrics.reservedNames)
                .union(ReloadMetrics.reservedNames).union(ServerMetrics.reservedNames),
            maxSeries: config.limitsMaxSeries,
            watchedClusters: Set(config.watchedClusters.map(\.id)),
            maxUnwatchedClusters: config.limitsMaxUnwatchedClusters
        )
    }

    private static func checkFileDescriptorLimit(_ config: AgentConfig, http: HTTPServer, logger: Logger) {
        let descriptors = FileDescriptorLimit.raise()
        let needed = FileDescriptorLimit.needed(
            httpConnections: http.limits.connections,
            replicas: config.watchedClusters.reduce(0) { $0 + $1.addresses.count })
        if descriptors < needed {
            logger.warning(
                "the open-file limit is lower than beetlewatch may need; raise it (ulimit -n, LimitNOFILE=)",
                metadata: [
                    "limit": "\(descriptors)", "needed": "\(needed)",
                ])
        }
    }

    /// The alert loop's settings from a configuration; links point at the web port, https when TLS is on.
    static func alertSettings(_ config: AgentConfig, webPort: UInt16, tls: Bool) -> AlertLoop.Settings {
        AlertLoop.Settings(
            rules: config.alertRules, runbookURL: config.alertRunbookURL, receivers: config.receivers,
            alertmanagerURLs: config.alertmanagerURLs,
            externalURL: config.webExternalURL ?? "\(tls ? "https" : "http")://\(Self.hostname()):\(webPort)",
            resendDelay: config.alertResendDelay,
            alertsOnUnwatchedClusters: config.alertsOnUnwatchedClusters,
            minimumFor: config.probeInterval,
            quorumDecisionWait: config.canaryTiming.map { $0.interval + $0.timeout } ?? .zero
        )
    }

    public func start() {
        for component in components { component.start() }
        logger.info(
            "beetlewatch started",
            metadata: [
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
    /// stays in force.
    @discardableResult
    public func reload(trigger: String = "SIGHUP") -> Result<Void, ReloadRefusal> {
        reloading.withLock { _ in
            let outcome: Result<Void, ReloadRefusal>
            do {
                guard let configSource else { throw ReasonError("this agent was started without a configuration source") }
                let new = try configSource()
                let webConfig = try WebConfigFile.load(path: new.webConfigFile)
                try http.replaceTLS(webConfig.tls)
                apply(new, webConfig)
                let restartOnly = new.restartOnlyChanges(comparedTo: startConfig)
                if !restartOnly.isEmpty {
                    logger.warning(
                        "some settings take effect only after a restart", metadata: ["settings": "\(restartOnly.joined(separator: ", "))"])
                }
                logger.info(
                    "configuration reloaded",
                    metadata: [
                        "trigger": "\(trigger)", "watching": "\(Self.watchingText(new))", "receivers": "\(new.receivers.count)",
                        "alertmanagers": "\(new.alertmanagerURLs.count)", "tls": "\(webConfig.tls != nil)",
                        "users": "\(webConfig.basicAuthUsers.count)",
                    ])
                outcome = .success(())
            } catch {
                logger.error(
                    "configuration reload refused; the previous configuration stays in force",
                    metadata: ["trigger": "\(trigger)", "error": "\(error)"])
                outcome = .failure(ReloadRefusal(reason: "\(error)"))
            }
            let now = clock.wall()
            reloadStatus.update { status in
                status.reloads += 1
                if case .success = outcome {
                    status.lastSuccessful = true
                    status.lastSuccessAt = now
                } else {
                    status.lastSuccessful = false
                    status.failures += 1
                }
            }
            return outcome
        }
    }

    private func apply(_ new: AgentConfig, _ webConfig: WebConfigFile) {
        Self.applyReloadable(
            new, live: live, store: store, prober: prober, alertLoop: alertLoop,
            alertSettings: Self.alertSettings(new, webPort: http.port, tls: webConfig.tls != nil))
        authGate.update(users: webConfig.basicAuthUsers, exemptPaths: new.webAuthExemptPaths)
    }

    /// What a reload changes in the parts `Agent` and `SteppedAgent` share, in this order: the live settings (the start
    /// time kept), the clusters the store watches, the prober's targets and timing (sessions of unchanged addresses go
    /// on), the alert loop's rules and destinations (alerts and unchanged channels kept).
    static func applyReloadable(
        _ new: AgentConfig, live: SharedValue<LiveSettings>, store: SharedStore, prober: ReplicaProber, alertLoop: AlertLoop,
        alertSettings: AlertLoop.Settings
    ) {
        live.update { live in
            live = LiveSettings(new, startedAt: live.policy.startedAt)
        }
        store.update { $0.watch(clusters: Set(new.watchedClusters.map(\.id)), maxUnwatchedClusters: new.limitsMaxUnwatchedClusters) }
        prober.reconfigure(clusters: new.watchedClusters, timing: new.probeTiming, canary: new.canaryTiming)
        alertLoop.reconfigure(alertSettings)
    }

    /// Stops in the reverse of the start order: the prober, the UDP receiver, the ingest thread (after applying what
    /// was already received), the alert loop (pending notifications get up to `--shutdown.timeout`), the HTTP server.
    public func stop() {
        let deadline = clock.monotonic() + config.shutdownTimeout
        for component in components.reversed() { component.stop(deadline: deadline) }
        logger.info("beetlewatch stopped")
    }

    /// The listen address as a target names it: its host (this host's name when it listens on every address), its port.
    static func scrapeAddress(_ listen: HostPort, port: UInt16) -> String {
        let host = ["", "0.0.0.0", "::", "[::]"].contains(listen.host) ? hostname() : listen.host
        return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
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
