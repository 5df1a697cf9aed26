import MetricStore

/// Log levels, as swift-log names them.
public enum LogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// Everything the agent is configured with, validated.
public struct AgentConfig: Sendable, Equatable {
    public var statsdListenUDP = HostPort(host: "0.0.0.0", port: 8125)
    public var statsdReadBuffer = 4 << 20
    public var statsdMapping = NamingMode.tigerbeetle
    public var statsdTTL = Duration.seconds(120)
    public var statsdMaxTags = 64
    public var webListenAddress = HostPort(host: "0.0.0.0", port: 9917)
    public var logLevel = LogLevel.info

    public init() {}

    /// The TTL in nanoseconds, as the store takes it (0 = never).
    public var statsdTTLNanoseconds: Int64 {
        let (seconds, attoseconds) = statsdTTL.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
