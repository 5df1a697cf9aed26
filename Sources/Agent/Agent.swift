import Alerting
import Config
import Foundation
import Exposition
import Health
import Logging
import MetricStore

/// The running agent: UDP receiver → ingest queue → ingest thread → store,
/// served over HTTP. Binding happens in `init`, so a bad address fails early.
public final class Agent: Sendable {
    public static let version = "0.1.0"

    public let config: AgentConfig
    private let receiver: UDPReceiver
    private let queue: IngestQueue
    private let pipeline: IngestPipeline
    private let state: MetricsState
    private let http: HTTPServer
    private let prober: ReplicaProber
    private let alertLoop: AlertLoop
    private let logger: Logger

    /// The bound StatsD UDP port (useful with port 0).
    public var statsdPort: UInt16 { receiver.port }
    /// The bound HTTP port (useful with port 0).
    public var webPort: UInt16 { http.port }

    public init(config: AgentConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        let options = MetricStore.Options(
            mode: config.statsdMapping,
            ttl: config.statsdTTLNanoseconds,
            tagLimits: LabelSet.Limits(maxTags: config.statsdMaxTags),
            reservedNames: SelfMetrics.reservedNames.union(HealthMetrics.reservedNames).union(AlertMetrics.reservedNames),
            maxSeries: config.limitsMaxSeries
        )
        let state = MetricsState(options: options)
        let queue = IngestQueue()
        let receiver = try UDPReceiver(address: config.statsdListenUDP, readBuffer: config.statsdReadBuffer,
                                       queue: queue, logger: logger)
        let build = BuildInfo(version: Self.version, swiftVersion: Self.swiftVersion)
        let mode = config.statsdMapping
        let watched = config.watchedClusters
        // The ingest thread and the prober wake the alert loop when what it reads changes.
        let alertWake = DispatchSemaphore(value: 0)
        let prober = ReplicaProber(clusters: watched, interval: config.probeInterval, timeout: config.probeTimeout,
                                   onChange: { alertWake.signal() })
        let policy = HealthPolicy(staleAfter: config.statsdStaleAfter.nanoseconds, startedAt: WallClock.now())
        let health = { @Sendable (store: MetricStore, now: Int64) -> HealthReport in
            HealthEvaluator.evaluate(watched: watched, signals: store.signals, probes: prober.snapshot(), policy: policy, now: now)
        }
        let currentHealth = { @Sendable in health(state.snapshot(), WallClock.now()) }
        let lateHandler = LateHandler()
        let http = try HTTPServer(address: config.webListenAddress, handler: lateHandler)
        let externalURL = config.webExternalURL ?? "http://\(Self.hostname()):\(http.port)"
        let alertLoop = AlertLoop(
            engine: AlertEngine(rules: config.alertRules, runbookURL: config.alertRunbookURL),
            health: currentHealth,
            receivers: config.receivers.map { receiver in
                AlertLoop.Receiver(config: receiver, channel: NotificationChannel(
                    name: receiver.name, delivery: .init(url: URL(string: receiver.url)!, headers: Self.headers(for: receiver),
                                                         timeout: Double(receiver.timeout) / 1e9), logger: logger))
            },
            alertmanagers: config.alertmanagerURLs.map { url in
                NotificationChannel(name: "alertmanager \(url)", delivery: .init(url: URL(string: url + "/api/v2/alerts")!, headers: [:],
                                                                                   timeout: 10, maxAttempts: 3), logger: logger)
            },
            externalURL: externalURL, resendDelay: config.alertResendDelay.nanoseconds, wake: alertWake, logger: logger
        )
        let endpoints = AgentEndpoints(
            metricsPage: {
                let store = state.snapshot()
                let now = WallClock.now()
                let receiverStats = ReceiverStats(queueDrops: queue.drops, kernelDrops: receiver.kernelDrops(),
                                                  receiveBufferBytes: receiver.receiveBufferBytes)
                let own = SelfMetrics.families(ingest: store.stats, receiver: receiverStats,
                                               liveSeries: store.seriesCount, mode: mode, build: build)
                    + AlertMetrics.families(active: alertLoop.active, notifications: alertLoop.channels.map(\.stats))
                return MetricsPage.render(store: store, extra: own + HealthMetrics.families(health(store, now)), now: now)
            },
            healthReport: currentHealth,
            alerts: { alertLoop.active },
            readyRequirement: config.readyRequire
        )
        lateHandler.set(endpoints)
        self.http = http
        self.prober = prober
        self.alertLoop = alertLoop
        self.state = state
        self.queue = queue
        self.receiver = receiver
        self.pipeline = IngestPipeline(queue: queue, state: state, onSignalsChanged: { alertWake.signal() })
    }

    public func start() {
        pipeline.start()
        receiver.start()
        prober.start()
        alertLoop.start()
        logger.info("beetlewatch started", metadata: [
            "statsd": "\(config.statsdListenUDP.host):\(statsdPort)",
            "web": "\(config.webListenAddress.host):\(webPort)",
            "mapping": "\(config.statsdMapping.rawValue)",
            "watching": "\(config.watchedClusters.map { "\($0.name)=\($0.addresses.joined(separator: ","))" }.joined(separator: " "))",
        ])
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

    static func headers(for receiver: WebhookReceiverConfig) -> [String: String] {
        var headers = receiver.headers
        if let token = receiver.bearerToken { headers["Authorization"] = "Bearer \(token)" }
        if let auth = receiver.basicAuth {
            headers["Authorization"] = "Basic " + Data("\(auth.username):\(auth.password)".utf8).base64EncodedString()
        }
        return headers
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "localhost"
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
