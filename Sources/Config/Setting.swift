import Alerting
import Health
import Probe
import VSR

/// One configurable setting: its key (which is also the flag name and the YAML
/// path), its default, its help, and how a text value is applied.
public struct Setting: Sendable {
    /// `statsd.ttl`: the flag `--statsd.ttl`, the YAML path `statsd: {ttl: ...}`,
    /// the environment variable `BEETLEWATCH_STATSD_TTL`.
    public let key: String
    /// nil: unset unless given.
    public let defaultValue: String?
    public let help: String
    /// May be given several times (flags repeated, a YAML list, or comma-separated in the environment).
    public let repeatable: Bool
    let apply: @Sendable (inout AgentConfig, String) throws(ReasonError) -> Void

    init(
        _ key: String, _ defaultValue: String?, _ help: String, repeatable: Bool = false,
        apply: @escaping @Sendable (inout AgentConfig, String) throws(ReasonError) -> Void
    ) {
        self.key = key
        self.defaultValue = defaultValue
        self.help = help
        self.repeatable = repeatable
        self.apply = apply
    }

    /// Separates the values of a repeatable setting in its one text form.
    public static let listSeparator: Character = "\n"

    /// The values of a repeatable setting: split on newlines (repeated flags, YAML lists) and commas (environment).
    static func list(_ value: String) -> [String] {
        value.split(whereSeparator: { $0 == listSeparator || $0 == "," }).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    static func urls(_ value: String) throws(ReasonError) -> [String] {
        var urls: [String] = []
        for url in list(value) { urls.append(try ValueParsers.url(url)) }
        return urls
    }

    /// The range of each duration setting, enforced at start and on reload (and shown in the help).
    public enum Ranges {
        public static let ttl = Duration.seconds(1)...Duration.seconds(30 * 86_400)
        public static let staleAfter = Duration.seconds(1)...Duration.seconds(3600)
        public static let probeInterval = Duration.milliseconds(100)...Duration.seconds(3600)
        public static let probeTimeout = Duration.milliseconds(10)...Duration.seconds(60)
        public static let canaryInterval = Duration.milliseconds(100)...Duration.seconds(3600)
        public static let canaryTimeout = Duration.milliseconds(10)...Duration.seconds(60)
        public static let resendDelay = Duration.seconds(1)...Duration.seconds(86_400)
        public static let shutdownTimeout = Duration.zero...Duration.seconds(600)
        public static let receiverTimeout = Duration.milliseconds(100)...Duration.seconds(300)
        public static let repeatInterval = Duration.seconds(1)...Duration.seconds(30 * 86_400)
        public static let ruleFor = Duration.zero...Duration.seconds(86_400)
        public static let clockSkewThreshold = Duration.milliseconds(1)...Duration.seconds(3600)
        public static let viewChangeWindow = Duration.seconds(1)...Duration.seconds(86_400)
        public static let maxUnwatchedClusters = 0...1000
        public static let viewLagAfter = Duration.milliseconds(100)...Duration.seconds(3600)
        public static let commitLagOps = 1...1_000_000_000
        public static let commitLagAfter = Duration.seconds(1)...Duration.seconds(86_400)
    }

    public var flag: String { "--" + key }

    public var environmentVariable: String {
        "BEETLEWATCH_" + key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 }.map(String.init).joined()
    }

    /// Every setting, in the order `--help` and the docs list them.
    public static let all: [Setting] = [
        Setting("statsd.listen-udp", "0.0.0.0:8125", "UDP address to receive StatsD on (TigerBeetle's --statsd points here).") {
            config, value throws(ReasonError) in
            config.statsdListenUDP = try ValueParsers.listenAddress(value)
        },
        Setting(
            "statsd.read-buffer", "32MiB",
            "Receive buffer to ask the kernel for (capped by net.core.rmem_max unless running with CAP_NET_ADMIN; the default's cap is logged at info, a set value's at warning)."
        ) { config, value throws(ReasonError) in
            let size = try ValueParsers.byteSize(value)
            guard size >= 4096 && size <= 1 << 30 else { throw ReasonError("must be between 4KiB and 1GiB, got \(value)") }
            config.statsdReadBuffer = size
        },
        Setting(
            "statsd.mapping", "tigerbeetle",
            "Naming mode: tigerbeetle (idiomatic names for tb.* metrics) or statsd_exporter (exactly statsd_exporter's default names)."
        ) { config, value throws(ReasonError) in
            config.statsdMapping = try ValueParsers.choice(value, [("tigerbeetle", .tigerbeetle), ("statsd_exporter", .statsdExporter)])
        },
        Setting(
            "statsd.ttl", "2m",
            "Series not updated for this long disappear from /metrics, and so do clusters heard from but not watched (\(ValueParsers.describe(Ranges.ttl)); 0 = never)."
        ) { config, value throws(ReasonError) in
            config.statsdTTL = try ValueParsers.duration(value, in: Ranges.ttl, zeroAllowed: true)
        },
        Setting("statsd.max-tags", "64", "Lines with more DogStatsD tags than this are rejected (too_many_tags).") {
            config, value throws(ReasonError) in
            config.statsdMaxTags = try ValueParsers.integer(value, in: 1...10_000)
        },
        Setting(
            "limits.max-series", "500000",
            "Beyond this many live series, lines that would create a new one are refused and counted (beetlewatch_series_refused_total); existing series keep updating."
        ) { config, value throws(ReasonError) in
            config.limitsMaxSeries = try ValueParsers.integer(value, in: 1...100_000_000)
        },
        Setting(
            "limits.max-unwatched-clusters", "16",
            "Clusters heard from but not watched whose replicas are tracked at most (\(Ranges.maxUnwatchedClusters.lowerBound) to \(Ranges.maxUnwatchedClusters.upperBound)); lines of further ones are kept as ordinary metrics and counted (beetlewatch_statsd_replica_lines_ignored_total)."
        ) { config, value throws(ReasonError) in
            config.limitsMaxUnwatchedClusters = try ValueParsers.integer(value, in: Ranges.maxUnwatchedClusters)
        },
        Setting("web.listen-address", "0.0.0.0:9917", "HTTP address for /metrics, /health and /ready.") {
            config, value throws(ReasonError) in
            config.webListenAddress = try ValueParsers.listenAddress(value)
        },
        Setting(
            "statsd.stale-after", "25s",
            "A replica is silent after this long without StatsD (TigerBeetle emits every 10 s; \(ValueParsers.describe(Ranges.staleAfter)))."
        ) { config, value throws(ReasonError) in
            config.statsdStaleAfter = try ValueParsers.duration(value, in: Ranges.staleAfter)
        },
        Setting(
            "tigerbeetle.cluster", nil,
            "The cluster id to watch, in decimal as tigerbeetle --cluster takes it (with --tigerbeetle.addresses)."
        ) { config, value throws(ReasonError) in
            _ = try TigerBeetleCluster.hexID(decimal: value)
            config.tigerBeetleCluster = value.trimmingWhitespace()
        },
        Setting(
            "tigerbeetle.addresses", nil,
            "The replicas' addresses as tigerbeetle --addresses lists them (host:port,...; index i = replica i)."
        ) { config, value throws(ReasonError) in
            config.tigerBeetleAddresses = try TigerBeetleCluster.addresses(value)
        },
        Setting(
            "probe.mode", "vsr",
            "How each replica is probed: vsr (a TigerBeetle ping_client on a kept-open connection, answered by its event loop: tells a hung replica) or tcp (connect and close: reachability only, one replica log line per probe)."
        ) { config, value throws(ReasonError) in
            config.probeMode = try ValueParsers.choice(value, ProbeMode.allCases.map { ($0.rawValue, $0) })
        },
        Setting(
            "probe.interval", "500ms",
            "How often each replica is pinged (vsr) or connected to (tcp) (\(ValueParsers.describe(Ranges.probeInterval)))."
        ) { config, value throws(ReasonError) in
            config.probeInterval = try ValueParsers.duration(value, in: Ranges.probeInterval)
        },
        Setting(
            "probe.timeout", "500ms",
            "How long a connect or a pong may take; two pings in a row unanswered make a replica hung (\(ValueParsers.describe(Ranges.probeTimeout)))."
        ) { config, value throws(ReasonError) in
            config.probeTimeout = try ValueParsers.duration(value, in: Ranges.probeTimeout)
        },
        Setting(
            "probe.release", "0.17.9",
            "The release pings claim until a replica's own is known (from its pong or its StatsD release gauge); a replica answers only releases it accepts clients of."
        ) { config, value throws(ReasonError) in
            guard let release = Release(value.trimmingWhitespace()) else { throw ReasonError("a release such as 0.17.9") }
            config.probeRelease = release
        },
        Setting(
            "canary.enabled", "true",
            "Whether each watched cluster is asked to commit a request: one client session (of its clients_max, 64), a register once, then a lookup_accounts of one id no application uses every interval (one prepare each, nothing written). Off for one cluster: canary: false in its config entry."
        ) { config, value throws(ReasonError) in
            config.canaryEnabled = try ValueParsers.choice(value, [("true", true), ("false", false)])
        },
        Setting(
            "canary.interval", "1s",
            "How often the canary sends its request (\(ValueParsers.describe(Ranges.canaryInterval)))."
        ) { config, value throws(ReasonError) in
            config.canaryInterval = try ValueParsers.duration(value, in: Ranges.canaryInterval)
        },
        Setting(
            "canary.timeout", "1s",
            "How long the canary's request may go unanswered before the check fails; it stays in flight until answered (\(ValueParsers.describe(Ranges.canaryTimeout)))."
        ) { config, value throws(ReasonError) in
            config.canaryTimeout = try ValueParsers.duration(value, in: Ranges.canaryTimeout)
        },
        Setting(
            "health.view-lag-after", "5s",
            "A replica whose view stays below its cluster's highest this long is behind (plus 10 s when its view is known only from StatsD; \(ValueParsers.describe(Ranges.viewLagAfter)))."
        ) { config, value throws(ReasonError) in
            config.healthViewLagAfter = try ValueParsers.duration(value, in: Ranges.viewLagAfter)
        },
        Setting(
            "health.commit-lag-ops", "10000",
            "A replica whose commit_max trails its cluster's highest by more than this many ops (for --health.commit-lag-after, while the others advance) is behind (\(Ranges.commitLagOps.lowerBound)–\(Ranges.commitLagOps.upperBound))."
        ) { config, value throws(ReasonError) in
            config.healthCommitLagOps = try ValueParsers.integer(value, in: Ranges.commitLagOps)
        },
        Setting(
            "health.commit-lag-after", "30s",
            "How long commit_max may trail by more than --health.commit-lag-ops before the replica is behind (\(ValueParsers.describe(Ranges.commitLagAfter)))."
        ) { config, value throws(ReasonError) in
            config.healthCommitLagAfter = try ValueParsers.duration(value, in: Ranges.commitLagAfter)
        },
        Setting(
            "ready.require", "quorum",
            "What /ready demands of every watched cluster: quorum (a healthy majority) or all (every replica healthy)."
        ) { config, value throws(ReasonError) in
            config.readyRequire = try ValueParsers.choice(value, ReadinessRequirement.allCases.map { ($0.rawValue, $0) })
        },
        Setting(
            "alert.webhook-url", nil,
            "Send Alertmanager-format webhooks (version 4) here; repeat for several receivers. More options: receivers: in the config file.",
            repeatable: true
        ) { config, value throws(ReasonError) in
            config.webhookURLs = try urls(value)
        },
        Setting(
            "alertmanager.url", nil, "Push alerts to this Alertmanager (POST /api/v2/alerts), as Prometheus does; repeat for an HA pair.",
            repeatable: true
        ) { config, value throws(ReasonError) in
            config.alertmanagerURLs = try urls(value).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        },
        Setting(
            "alert.resend-delay", "1m",
            "Firing alerts are re-sent to Alertmanager this often, with endsAt 4 resend delays ahead (\(ValueParsers.describe(Ranges.resendDelay)))."
        ) { config, value throws(ReasonError) in
            config.alertResendDelay = try ValueParsers.duration(value, in: Ranges.resendDelay)
        },
        Setting(
            "alert.unwatched-clusters", "auto",
            "Whether clusters heard from but not watched raise alerts: auto (only while no cluster is watched), true, false."
        ) { config, value throws(ReasonError) in
            config.alertUnwatchedClusters = try ValueParsers.choice(value, UnwatchedClusterAlerts.allCases.map { ($0.rawValue, $0) })
        },
        Setting(
            "alert.runbook-url", AlertEngine.defaultRunbookURL,
            "Where docs/alerts.md is published: each alert's runbook_url is this plus #alertname."
        ) { config, value throws(ReasonError) in
            config.alertRunbookURL = value.trimmingWhitespace()
        },
        Setting(
            "web.external-url", nil, "The URL beetlewatch is reached at, for links in notifications (default http://<hostname>:<port>)."
        ) { config, value throws(ReasonError) in
            let url = try urls(value)
            guard url.count == 1 else { throw ReasonError("one URL") }
            config.webExternalURL = url[0].hasSuffix("/") ? String(url[0].dropLast()) : url[0]
        },
        Setting(
            "web.config.file", nil,
            "Web configuration file (Prometheus exporter-toolkit format): tls_server_config serves HTTPS, basic_auth_users (bcrypt) requires a login."
        ) { config, value throws(ReasonError) in
            let path = value.trimmingWhitespace()
            guard !path.isEmpty else { throw ReasonError("empty path") }
            config.webConfigFile = path
        },
        Setting("web.auth-exempt-paths", "/health", "Paths served without basic auth, for probes (an empty value: none).", repeatable: true)
        { config, value throws(ReasonError) in
            let paths = list(value)
            for path in paths where !path.hasPrefix("/") { throw ReasonError("\"\(path)\" is not a path (starts with /)") }
            config.webAuthExemptPaths = paths
        },
        Setting("web.enable-lifecycle", "false", "Serve POST /-/reload (re-read the configuration, as SIGHUP does).") {
            config, value throws(ReasonError) in
            config.webEnableLifecycle = try ValueParsers.choice(value, [("true", true), ("false", false)])
        },
        Setting(
            "shutdown.timeout", "5s",
            "On SIGTERM, pending notifications get this long to go out (\(ValueParsers.describe(Ranges.shutdownTimeout)))."
        ) { config, value throws(ReasonError) in
            config.shutdownTimeout = try ValueParsers.duration(value, in: Ranges.shutdownTimeout)
        },
        Setting("log.level", "info", "Log level: trace, debug, info, notice, warning, error, critical.") {
            config, value throws(ReasonError) in
            config.logLevel = try ValueParsers.choice(value, LogLevel.allCases.map { ($0.rawValue, $0) })
        },
    ]

    public static func named(_ key: String) -> Setting? {
        all.first { $0.key == key }
    }
}
