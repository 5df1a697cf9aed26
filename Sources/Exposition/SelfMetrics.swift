import MetricStore
import StatsD
import TigerBeetle

/// Counters kept by the UDP receiver, outside the store.
public struct ReceiverStats: Sendable, Equatable {
    /// Datagrams dropped because the ingest queue stayed full for a second (`IngestQueue.roomWait`).
    public var queueDrops: UInt64 = 0
    /// The kernel's drop counter for the socket (`SO_MEMINFO`), when the kernel reports it.
    public var kernelDrops: UInt64?
    /// The socket's receive buffer as the kernel reports it (`SO_RCVBUF`).
    public var receiveBufferBytes: Int = 0

    public init(queueDrops: UInt64 = 0, kernelDrops: UInt64? = nil, receiveBufferBytes: Int = 0) {
        self.queueDrops = queueDrops
        self.kernelDrops = kernelDrops
        self.receiveBufferBytes = receiveBufferBytes
    }
}

/// What `beetlewatch_build_info` says.
public struct BuildInfo: Sendable {
    public var version: String
    public var swiftVersion: String
    public init(version: String, swiftVersion: String) {
        self.version = version
        self.swiftVersion = swiftVersion
    }
}

/// beetlewatch's own metrics, from the counters the store and receiver keep.
public enum SelfMetrics {
    public static func families(
        ingest: IngestStats, signals: TigerBeetleSignals, receiver: ReceiverStats, liveSeries: Int,
        mode: NamingMode, build: BuildInfo
    ) -> [StaticFamily] {
        func counter(_ name: String, _ help: String, _ value: UInt64) -> StaticFamily {
            StaticFamily(name: name, help: help, type: .counter, value: Double(value))
        }
        var families = [
            StaticFamily(
                name: "beetlewatch_build_info", help: "Build of the running beetlewatch; the value is always 1.", type: .gauge,
                samples: [(LabelSet([("version", build.version), ("swift_version", build.swiftVersion), ("mapping", mode.rawValue)]), 1)]),
            counter("beetlewatch_statsd_datagrams_total", "StatsD datagrams processed.", ingest.datagrams),
            counter("beetlewatch_statsd_received_bytes_total", "Bytes of StatsD datagrams processed.", ingest.bytes),
            counter("beetlewatch_statsd_lines_total", "StatsD metric lines applied to series.", ingest.lines),
            StaticFamily(
                name: "beetlewatch_statsd_events_total", help: "DogStatsD events and service checks received (recognised, not stored).",
                type: .counter,
                samples: [
                    (LabelSet([("type", "event")]), Double(ingest.events)),
                    (LabelSet([("type", "service_check")]), Double(ingest.serviceChecks)),
                ]),
            StaticFamily(
                name: "beetlewatch_statsd_parse_errors_total", help: "StatsD lines rejected, by reason.", type: .counter,
                samples: ParseError.allCases.map { (LabelSet([("reason", $0.rawValue)]), Double(ingest.parseErrors($0))) }),
            counter(
                "beetlewatch_statsd_type_conflicts_total", "StatsD lines dropped because their Prometheus name is taken by another type.",
                ingest.typeConflicts),
            counter(
                "beetlewatch_statsd_tags_dropped_total", "DogStatsD tags dropped for lacking a ':value' or a name.", ingest.tagsDropped),
            counter(
                "beetlewatch_statsd_set_members_dropped_total", "Set members not counted because the set was full.",
                ingest.setMembersDropped),
            counter(
                "beetlewatch_statsd_quantiles_dropped_total",
                "Timer and histogram values kept in _sum and _count but not in quantiles: 10,000 series keep quantiles.",
                ingest.quantilesDropped),
            counter(
                "beetlewatch_statsd_reserved_labels_total",
                "DogStatsD tags whose names Prometheus reserves: __* dropped, quantile on a summary renamed exported_quantile.",
                ingest.reservedLabels),
            StaticFamily(
                name: "beetlewatch_statsd_replica_lines_ignored_total",
                help: "tb.* lines with cluster and replica tags not read as a replica's signals (kept as ordinary metrics), by reason.",
                type: .counter,
                samples: ReplicaLineIgnored.allCases.map { (LabelSet([("reason", $0.rawValue)]), Double(ingest.replicaLinesIgnored($0))) }),
            StaticFamily(
                name: "beetlewatch_statsd_invalid_signals_total",
                help: "TigerBeetle health signals ignored for a value TigerBeetle cannot send, by signal and reason.", type: .counter,
                samples: ReplicaSignal.allCases.flatMap { signal in
                    InvalidSignalReason.allCases.map { reason in
                        (
                            LabelSet([("signal", signal.tigerBeetleName), ("reason", reason.rawValue)]),
                            Double(signals.invalidCount(signal, reason))
                        )
                    }
                }),
            StaticFamily(
                name: "beetlewatch_statsd_unwatched_clusters",
                help: "Clusters heard from but not configured whose replicas are tracked (at most --limits.max-unwatched-clusters).",
                type: .gauge, value: Double(signals.unwatchedClusterCount)),
            StaticFamily(
                name: "beetlewatch_statsd_series", help: "Series currently held from StatsD.", type: .gauge, value: Double(liveSeries)),
            counter("beetlewatch_statsd_series_created_total", "Series created from StatsD.", ingest.seriesCreated),
            counter("beetlewatch_statsd_series_expired_total", "Series removed after the TTL without updates.", ingest.seriesExpired),
            counter(
                "beetlewatch_series_refused_total", "Lines refused because they would create a series beyond --limits.max-series.",
                ingest.seriesRefused),
            counter(
                "beetlewatch_statsd_queue_dropped_datagrams_total", "Datagrams dropped because the ingest queue stayed full for a second.",
                receiver.queueDrops),
            StaticFamily(
                name: "beetlewatch_statsd_receive_buffer_bytes", help: "Receive buffer of the StatsD socket, as the kernel reports it.",
                type: .gauge,
                value: Double(receiver.receiveBufferBytes)),
        ]
        if let drops = receiver.kernelDrops {
            families.append(
                counter(
                    "beetlewatch_statsd_udp_receive_drops_total",
                    "Datagrams the kernel dropped for the StatsD socket (full receive buffer), as the socket counts them.", drops))
        }
        return families
    }

    /// Every name the agent's own metrics may put on the page: the store must not create them.
    public static var reservedNames: Set<String> {
        let families = families(
            ingest: IngestStats(), signals: TigerBeetleSignals(), receiver: ReceiverStats(kernelDrops: 0), liveSeries: 0,
            mode: .tigerbeetle, build: BuildInfo(version: "", swiftVersion: ""))
        return Set(families.flatMap(\.sampleNames))
    }
}
