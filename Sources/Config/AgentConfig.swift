import Alerting
import Health
import MetricStore
import Probe
import TigerBeetle
import VSR

/// Log levels, as swift-log names them.
public enum LogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// Whether clusters heard from but not watched raise alerts (`--alert.unwatched-clusters`).
public enum UnwatchedClusterAlerts: String, Sendable, CaseIterable {
    /// Only while no cluster is watched (beetlewatch as a plain collector).
    case auto
    case `true`
    case `false`
}

/// Everything the agent is configured with, validated.
public struct AgentConfig: Sendable, Equatable {
    public var statsdListenUDP = HostPort(host: "0.0.0.0", port: 8125)
    /// 32 MiB: with 4 MiB, a sender flat out (7–9M lines/s) lost 2–12% to the reader's scheduling gaps; with 32 MiB
    /// and the queue holding the reader when full, 0.73% on average over 10 runs (docs/performance.md). Without
    /// CAP_NET_ADMIN the kernel caps it at net.core.rmem_max.
    public static let defaultStatsDReadBuffer = 32 << 20
    public var statsdReadBuffer = defaultStatsDReadBuffer
    public var statsdMapping = NamingMode.tigerbeetle
    public var statsdTTL = Duration.seconds(120)
    public var statsdMaxTags = 64
    public var limitsMaxSeries = 500_000
    public var limitsMaxUnwatchedClusters = 16
    public var alertUnwatchedClusters = UnwatchedClusterAlerts.auto
    public var webListenAddress = HostPort(host: "0.0.0.0", port: 9917)
    public var logLevel = LogLevel.info
    /// The single cluster of `--tigerbeetle.cluster` (decimal) and `--tigerbeetle.addresses`.
    public var tigerBeetleCluster: String?
    public var tigerBeetleAddresses: [String]?
    /// Clusters from the config file's `tigerbeetle: {clusters: [...]}`.
    public var fileClusters: [WatchedCluster] = []
    public var probeMode = ProbeMode.vsr
    /// 500 ms and 500 ms: a stopped replica is hung within 2 × interval + timeout = 1.5 s (1.00–1.43 s live, as fast
    /// as TigerBeetle's own backups notice a stopped primary), with no false hung in 30 minutes of a saturated cluster nor
    /// with the agent starved (docs/performance.md, "Detection"); two pings a second keep a fleet of 6,000 replicas
    /// within half a core.
    public var probeInterval = Duration.milliseconds(500)
    public var probeTimeout = Duration.milliseconds(500)
    public var probeRelease = Release(major: 0, minor: 17, patch: 9)
    public var canaryEnabled = true
    public var canaryInterval = Duration.seconds(1)
    public var canaryTimeout = Duration.seconds(1)
    public var healthViewLagAfter = Duration.seconds(5)
    public var healthCommitLagOps = 10_000
    public var healthCommitLagAfter = Duration.seconds(30)
    public var statsdStaleAfter = Duration.seconds(25)
    public var readyRequire = ReadinessRequirement.quorum
    /// `--alert.webhook-url`, each a receiver with the defaults.
    public var webhookURLs: [String] = []
    /// The config file's `receivers:`.
    public var fileReceivers: [WebhookReceiverConfig] = []
    public var alertmanagerURLs: [String] = []
    public var alertRules = AlertRules()
    public var alertResendDelay = Duration.seconds(60)
    public var alertRunbookURL = AlertEngine.defaultRunbookURL
    /// How beetlewatch is reached from outside (links in notifications); default http://<hostname>:<port>.
    public var webExternalURL: String?
    public var shutdownTimeout = Duration.seconds(5)
    /// `--web.config.file`: TLS and basic auth, exporter-toolkit format.
    public var webConfigFile: String?
    /// Paths served without basic auth (for probes).
    public var webAuthExemptPaths = ["/health"]
    /// Whether `POST /-/reload` is served (as Prometheus's `--web.enable-lifecycle`).
    public var webEnableLifecycle = false

    public init() {}

    /// Settings a reload cannot change: they size or bind what runs from the start. Everything else
    /// (targets, rules, receivers, Alertmanagers, the web config file, readiness, probe timing) is reloaded.
    static let restartOnly: [(key: String, differs: @Sendable (AgentConfig, AgentConfig) -> Bool)] = [
        ("statsd.listen-udp", { $0.statsdListenUDP != $1.statsdListenUDP }),
        ("statsd.read-buffer", { $0.statsdReadBuffer != $1.statsdReadBuffer }),
        ("statsd.mapping", { $0.statsdMapping != $1.statsdMapping }),
        ("statsd.ttl", { $0.statsdTTL != $1.statsdTTL }),
        ("statsd.max-tags", { $0.statsdMaxTags != $1.statsdMaxTags }),
        ("limits.max-series", { $0.limitsMaxSeries != $1.limitsMaxSeries }),
        ("web.listen-address", { $0.webListenAddress != $1.webListenAddress }),
        ("log.level", { $0.logLevel != $1.logLevel }),
    ]

    public static var restartOnlyKeys: [String] { restartOnly.map(\.key) }

    /// The restart-only settings whose value differs in `other`.
    public func restartOnlyChanges(comparedTo other: AgentConfig) -> [String] {
        Self.restartOnly.filter { $0.differs(self, other) }.map(\.key)
    }

    /// The probe's settings.
    public var probeTiming: ProbeTiming {
        ProbeTiming(mode: probeMode, interval: probeInterval, timeout: probeTimeout, defaultRelease: probeRelease)
    }

    /// The canary's settings; nil when it is off everywhere (`--canary.enabled=false`).
    public var canaryTiming: CanaryTiming? {
        guard canaryEnabled else { return nil }
        return CanaryTiming(interval: canaryInterval, timeout: canaryTimeout, defaultRelease: probeRelease)
    }

    /// The verdicts' thresholds; `startedAt` is when the agent started.
    public func healthPolicy(startedAt: WallInstant) -> HealthPolicy {
        var policy = HealthPolicy(
            staleAfter: statsdStaleAfter, startedAt: startedAt,
            // A ping may wait twice the timeout on a jittery path (`ProbeSession.pingTimeout`) before its miss refreshes
            // the result (live, 30% loss: "the prober may be stuck" for moments when the TTL was one timeout).
            probeResultTTL: probeInterval + probeTimeout * 2,
            viewLagAfter: healthViewLagAfter, commitLagOps: Double(healthCommitLagOps),
            commitLagAfter: healthCommitLagAfter)
        policy.canaryResultTTL = canaryInterval + canaryTimeout + .seconds(1)
        // Half the timeout, to the nanosecond below.
        policy.canaryForwardWait = .nanoseconds(canaryTimeout.nanoseconds / 2)
        policy.canaryFailingIsQuorumLostAfter = canaryInterval + canaryTimeout + .milliseconds(500)
        return policy
    }

    /// Whether unwatched clusters raise alerts under this configuration.
    public var alertsOnUnwatchedClusters: Bool {
        switch alertUnwatchedClusters {
        case .auto: watchedClusters.isEmpty
        case .true: true
        case .false: false
        }
    }

    /// Every webhook receiver: the file's, then one per `--alert.webhook-url`.
    public var receivers: [WebhookReceiverConfig] {
        fileReceivers
            + webhookURLs.enumerated().map { i, url in
                WebhookReceiverConfig(name: webhookURLs.count == 1 && fileReceivers.isEmpty ? "webhook" : "webhook-\(i + 1)", url: url)
            }
    }

    /// Every cluster to watch: the one from flags/env/keys, then the file's list (ids unique).
    public var watchedClusters: [WatchedCluster] {
        var clusters: [WatchedCluster] = []
        if let name = tigerBeetleCluster, let addresses = tigerBeetleAddresses,
            let id = try? TigerBeetleCluster.hexID(decimal: name)
        {
            clusters.append(WatchedCluster(id: id, name: name, addresses: addresses))
        }
        for cluster in fileClusters where !clusters.contains(where: { $0.id == cluster.id }) {
            clusters.append(cluster)
        }
        return clusters
    }
}
