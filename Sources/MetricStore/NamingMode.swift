/// How StatsD names become Prometheus names (`--statsd.mapping`).
public enum NamingMode: String, Sendable, CaseIterable {
    /// Idiomatic Prometheus names for TigerBeetle's `tb.` metrics (base units,
    /// summaries for its pre-aggregated timings); every other line is mapped
    /// as statsd_exporter maps it.
    case tigerbeetle
    /// Exactly prometheus/statsd_exporter's default mapping, for migrations.
    case statsdExporter = "statsd_exporter"
}
