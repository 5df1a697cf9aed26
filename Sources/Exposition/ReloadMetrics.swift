import TigerBeetle

/// The outcome of the latest configuration reload (SIGHUP or `POST /-/reload`).
public struct ReloadStatus: Sendable, Equatable {
    /// Whether the configuration in force is the one last asked for (true at start).
    public var lastSuccessful: Bool
    /// When a configuration was last loaded successfully (start or reload).
    public var lastSuccessAt: WallInstant
    public var reloads: UInt64 = 0
    public var failures: UInt64 = 0

    public init(lastSuccessful: Bool = true, lastSuccessAt: WallInstant) {
        self.lastSuccessful = lastSuccessful
        self.lastSuccessAt = lastSuccessAt
    }
}

/// `beetlewatch_config_*`, named as Prometheus names its own (`prometheus_config_last_reload_successful`).
public enum ReloadMetrics {
    public static func families(_ status: ReloadStatus) -> [StaticFamily] {
        [
            StaticFamily(
                name: "beetlewatch_config_last_reload_successful",
                help:
                    "1 if the last configuration reload succeeded (or none was asked for), 0 if it was refused and the previous configuration is still in force.",
                type: .gauge, value: status.lastSuccessful ? 1 : 0),
            StaticFamily(
                name: "beetlewatch_config_last_reload_success_timestamp_seconds",
                help: "When a configuration was last loaded successfully, at start or on reload.",
                type: .gauge, value: status.lastSuccessAt.unixSeconds),
            StaticFamily(
                name: "beetlewatch_config_reloads_total", help: "Configuration reloads asked for (SIGHUP or POST /-/reload).",
                type: .counter,
                value: Double(status.reloads)),
            StaticFamily(
                name: "beetlewatch_config_reload_failures_total",
                help: "Configuration reloads refused because the new configuration was invalid.", type: .counter,
                value: Double(status.failures)),
        ]
    }

    public static var reservedNames: Set<String> {
        Set(families(ReloadStatus(lastSuccessAt: .epoch)).flatMap(\.sampleNames))
    }
}
