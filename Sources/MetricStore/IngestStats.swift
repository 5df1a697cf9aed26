import StatsD
import TigerBeetle

/// What the store has counted about its input.
public struct IngestStats: Sendable, Equatable {
    public var datagrams: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Metric lines applied (events, service checks and rejected lines not included).
    public var lines: UInt64 = 0
    public var events: UInt64 = 0
    public var serviceChecks: UInt64 = 0
    /// Rejected lines, indexed like `ParseError.allCases`.
    public var parseErrors: [UInt64] = Array(repeating: 0, count: ParseError.allCases.count)
    /// Lines whose Prometheus name was already taken by another type.
    public var typeConflicts: UInt64 = 0
    /// DogStatsD tags dropped for having no `:value` or an empty name.
    public var tagsDropped: UInt64 = 0
    public var seriesCreated: UInt64 = 0
    public var seriesExpired: UInt64 = 0
    /// Lines that would have created a series beyond `--limits.max-series`.
    public var seriesRefused: UInt64 = 0
    /// Set members ignored because the set already held `MetricStore.maxSetMembers`.
    public var setMembersDropped: UInt64 = 0
    /// Timer and histogram values not put in quantiles because `MetricStore.maxSummaryWindows` series keep them.
    public var quantilesDropped: UInt64 = 0
    /// Labels dropped or renamed because Prometheus reserves their names.
    public var reservedLabels: UInt64 = 0
    /// `tb.*` lines with replica tags kept only as ordinary metrics, indexed like `ReplicaLineIgnored.allCases`.
    public var replicaLinesIgnored: [UInt64] = Array(repeating: 0, count: ReplicaLineIgnored.allCases.count)

    public init() {}

    public func parseErrors(_ reason: ParseError) -> UInt64 {
        parseErrors[ParseError.allCases.firstIndex(of: reason)!]
    }

    public var totalParseErrors: UInt64 { parseErrors.reduce(0, +) }

    mutating func count(_ reason: ParseError) {
        parseErrors[ParseError.allCases.firstIndex(of: reason)!] += 1
    }

    public func replicaLinesIgnored(_ reason: ReplicaLineIgnored) -> UInt64 {
        replicaLinesIgnored[ReplicaLineIgnored.allCases.firstIndex(of: reason)!]
    }

    mutating func count(_ reason: ReplicaLineIgnored) {
        replicaLinesIgnored[ReplicaLineIgnored.allCases.firstIndex(of: reason)!] += 1
    }
}
