import Config
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
            reservedNames: SelfMetrics.reservedNames.union(HealthMetrics.reservedNames)
        )
        let state = MetricsState(options: options)
        let queue = IngestQueue()
        let receiver = try UDPReceiver(address: config.statsdListenUDP, readBuffer: config.statsdReadBuffer,
                                       queue: queue, logger: logger)
        let build = BuildInfo(version: Self.version, swiftVersion: Self.swiftVersion)
        let mode = config.statsdMapping
        let watched = config.watchedClusters
        let prober = ReplicaProber(clusters: watched, interval: config.probeInterval, timeout: config.probeTimeout)
        let policy = HealthPolicy(staleAfter: config.statsdStaleAfter.nanoseconds, startedAt: WallClock.now())
        let health = { @Sendable (store: MetricStore, now: Int64) -> HealthReport in
            HealthEvaluator.evaluate(watched: watched, signals: store.signals, probes: prober.snapshot(), policy: policy, now: now)
        }
        let endpoints = AgentEndpoints(
            metricsPage: {
                let store = state.snapshot()
                let now = WallClock.now()
                let receiverStats = ReceiverStats(queueDrops: queue.drops, kernelDrops: receiver.kernelDrops(),
                                                  receiveBufferBytes: receiver.receiveBufferBytes)
                let own = SelfMetrics.families(ingest: store.stats, receiver: receiverStats,
                                               liveSeries: store.seriesCount, mode: mode, build: build)
                return MetricsPage.render(store: store, extra: own + HealthMetrics.families(health(store, now)), now: now)
            },
            healthReport: { health(state.snapshot(), WallClock.now()) },
            readyRequirement: config.readyRequire
        )
        self.http = try HTTPServer(address: config.webListenAddress, handler: endpoints)
        self.prober = prober
        self.state = state
        self.queue = queue
        self.receiver = receiver
        self.pipeline = IngestPipeline(queue: queue, state: state)
    }

    public func start() {
        pipeline.start()
        receiver.start()
        prober.start()
        logger.info("beetlewatch started", metadata: [
            "statsd": "\(config.statsdListenUDP.host):\(statsdPort)",
            "web": "\(config.webListenAddress.host):\(webPort)",
            "mapping": "\(config.statsdMapping.rawValue)",
            "watching": "\(config.watchedClusters.map { "\($0.name)=\($0.addresses.joined(separator: ","))" }.joined(separator: " "))",
        ])
    }

    /// Stops receiving, applies what was already received, then stops serving.
    public func stop() {
        prober.stop()
        receiver.stop()
        pipeline.stop()
        http.stop()
        logger.info("beetlewatch stopped")
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
