import StatsD

/// Deliberate Prometheus names for every metric that `tigerbeetle inspect metrics`
/// lists, and the generic rule for metrics a future TigerBeetle adds.
///
/// TigerBeetle sends every plain metric as a gauge (`tb.NAME:V|g`) and every timing
/// pre-aggregated per ~10 s emit interval, in microseconds: `tb.NAME_us.min|max|avg`
/// gauges and `tb.NAME_us.sum|count` counters (reset after each emit).
public enum TigerBeetleNames {
    /// A known TigerBeetle gauge.
    struct Gauge {
        var name: String
        var action: SampleAction
        var type: FamilyType
        var divisor: Double
        var help: String

        static func gauge(_ name: String, _ help: String, divisor: Double = 1) -> Gauge {
            Gauge(name: name, action: .gaugeSet, type: .gauge, divisor: divisor, help: help)
        }

        /// A running total the replica reports as a gauge (reset only on restart).
        static func total(_ name: String, _ help: String) -> Gauge {
            Gauge(name: name, action: .counterSet, type: .counter, divisor: 1, help: help)
        }
    }

    static let nanoseconds = 1e9
    static let microseconds = 1e6
    static let interval = "in the last emit interval (about 10 s)"

    /// `tb.<key>` gauge → Prometheus name (without the `tigerbeetle_` prefix).
    static let gauges: [String: Gauge] = [
        "replica_start": .gauge(
            "replica_start_timestamp_seconds", "When the replica process started, Unix time in seconds.", divisor: nanoseconds),
        "replica_status": .gauge(
            "replica_status",
            "Replica status: 0 normal, 1 view_change, 2 recovering, 3 recovering_head. Sampled every emit interval; a fast view change can fall between two samples."
        ),
        "replica_view": .gauge("replica_view", "The view the replica is in; a rise means a view change happened."),
        "replica_log_view": .gauge("replica_log_view", "The view of the replica's latest log (the last view in which it was normal)."),
        "replica_op": .gauge("replica_op", "The highest op in the replica's log."),
        "replica_op_checkpoint": .gauge("replica_op_checkpoint", "The op of the replica's latest checkpoint."),
        "replica_commit_min": .gauge("replica_commit_min", "The highest op the replica has executed."),
        "replica_commit_max": .gauge(
            "replica_commit_max", "The highest op the replica knows to be committed; frozen while the cluster cannot commit."),
        "replica_commit_timestamp": .gauge(
            "replica_commit_timestamp_seconds", "Cluster timestamp of the latest committed op, Unix time in seconds.", divisor: nanoseconds),
        "replica_pipeline_queue_length": .gauge("replica_pipeline_queue_length", "Requests waiting in the primary's pipeline queue."),
        "replica_sync_stage": .gauge("replica_sync_stage", "State sync stage: 0 idle, anything else means state sync is under way."),
        "replica_sync_op_min": .gauge("replica_sync_op_min", "Lowest op of the state sync under way."),
        "replica_sync_op_max": .gauge("replica_sync_op_max", "Highest op of the state sync under way."),
        "replica_messages_in": .gauge("replica_messages_in", "Messages the replica received \(interval), by command."),
        "replica_messages_out": .gauge("replica_messages_out", "Messages the replica sent \(interval), by command."),
        "journal_dirty": .gauge("journal_dirty", "Journal slots waiting to be written."),
        "journal_faulty": .gauge("journal_faulty", "Journal slots known to be faulty (corrupt or missing); above 0 needs repair."),
        "grid_blocks_acquired": .gauge("grid_blocks_acquired", "Grid blocks in use."),
        "grid_blocks_missing": .gauge("grid_blocks_missing", "Grid blocks known to be missing or corrupt, waiting for repair."),
        "grid_cache_hits": .total("grid_cache_hits_total", "Grid block cache hits since the replica started."),
        "grid_cache_misses": .total("grid_cache_misses_total", "Grid block cache misses since the replica started."),
        "lsm_object_cache_entries": .gauge("lsm_object_cache_entries", "Entries in the LSM object cache, by groove."),
        "lsm_object_cache_entries_max": .gauge("lsm_object_cache_entries_max", "Capacity of the LSM object cache, by groove."),
        "lsm_nodes_free": .gauge("lsm_nodes_free", "Free nodes in the LSM manifest node pool."),
        "lsm_manifest_block_count": .gauge("lsm_manifest_blocks", "Blocks of the LSM manifest log."),
        "metrics_statsd_packets": .gauge("metrics_statsd_packets", "StatsD packets the replica sent \(interval)."),
        "release": .gauge("release", "The replica's release, as TigerBeetle packs it into an integer."),
        "release_seen_client_min": .gauge("release_seen_client_min", "Oldest client release seen by the replica, packed as an integer."),
        "release_seen_client_max": .gauge("release_seen_client_max", "Newest client release seen by the replica, packed as an integer."),
        "clock_delta_ns": .gauge(
            "clock_delta_seconds", "Offset of the replica's clock from the cluster's agreed time, seconds.", divisor: nanoseconds),
        "message_bus_connections": .gauge(
            "message_bus_connections", "Open message bus connections, by peer kind (replica, client, client_likely, unknown)."),
        "message_bus_connections_max": .gauge("message_bus_connections_max", "Message bus connection slots."),
        "table_count_visible": .gauge("table_count_visible", "Visible tables in the LSM tree, by tree."),
        "table_count_visible_max": .gauge("table_count_visible_max", "Most visible tables the LSM tree may hold, by tree."),
        "value_count_visible": .gauge("value_count_visible", "Visible values in the LSM tree, by tree."),
        "compaction_values_physical": .gauge("compaction_values_physical", "Physical values in the LSM tree after compaction, by tree."),
        "compaction_values_logical": .gauge("compaction_values_logical", "Logical values in the LSM tree after compaction, by tree."),
        "loop_syscalls": .gauge("loop_syscalls", "System calls made by the replica's I/O loop, as TigerBeetle reports them."),
    ]

    /// `tb.<key>_us.*` timing → Prometheus base name (without prefix and `_seconds`) and what it times.
    static let timings: [String: (name: String, what: String)] = [
        "replica_commit": ("replica_commit", "commit stages, by stage"),
        "replica_aof_write": ("replica_aof_write", "append-only-file writes"),
        "replica_aof_checkpoint": ("replica_aof_checkpoint", "append-only-file checkpoints"),
        "replica_sync_table": ("replica_sync_table", "table syncs during state sync"),
        "replica_request": ("replica_request", "requests from arrival to reply, by operation"),
        "replica_request_execute": ("replica_request_execute", "request execution in the state machine, by operation"),
        "replica_request_local": ("replica_request_local", "requests measured locally on the replica, by operation"),
        "compact_beat": ("compact_beat", "compaction beats, by tree"),
        "compact_beat_merge": ("compact_beat_merge", "the merge step of compaction beats, by tree"),
        "compact_manifest": ("compact_manifest", "manifest compaction"),
        "compact_mutable": ("compact_mutable", "compaction of the mutable table, by tree"),
        "compact_mutable_suffix": ("compact_mutable_suffix", "compaction of the mutable table's suffix, by tree"),
        "lookup": ("lookup", "LSM lookups, by tree"),
        "lookup_worker": ("lookup_worker", "LSM lookup workers, by tree"),
        "scan_tree": ("scan_tree", "LSM tree scans, by tree"),
        "scan_tree_level": ("scan_tree_level", "LSM tree level scans, by tree"),
        "grid_read": ("grid_read", "grid block reads"),
        "grid_write": ("grid_write", "grid block writes"),
        "storage_read": ("storage_read", "storage reads, by zone"),
        "storage_write": ("storage_write", "storage writes, by zone"),
        "metrics_emit": ("metrics_emit", "emitting metrics"),
        "client_request_round_trip": ("client_request_round_trip", "client request round trips, by operation"),
        "loop_run_for_ns": ("loop_run_for", "runs of the I/O loop (run_for_ns)"),
        "loop_tick": ("loop_tick", "I/O loop ticks"),
        "loop_callbacks": ("loop_callbacks", "I/O loop callbacks"),
        "loop_kernel": ("loop_kernel", "time in the kernel per I/O loop iteration"),
    ]

    /// The mapping of a `tb.` metric in `tigerbeetle` mode, or nil when the
    /// line is not one of TigerBeetle's shapes (it then falls back to the
    /// statsd_exporter rule under the `tigerbeetle_` prefix).
    static func mapping(key: String, type: MetricType) -> MetricMapping? {
        if let timing = timingParts(key), timing.statMatches(type) {
            return timingMapping(base: timing.base, stat: timing.stat)
        }
        switch type {
        case .gauge:
            if let known = gauges[key] {
                return MetricMapping(
                    family: "tigerbeetle_" + known.name, type: known.type, help: known.help,
                    action: known.action, divisor: known.divisor)
            }
            let (name, divisor) = baseUnits(PrometheusName.escape(key))
            return MetricMapping(
                family: "tigerbeetle_" + avoidReservedSuffix(name), type: .gauge,
                help: "TigerBeetle gauge tb.\(key)\(divisor == 1 ? "" : ", converted to seconds").",
                action: .gaugeSet, divisor: divisor)
        case .counter:
            return MetricMapping(
                family: "tigerbeetle_" + PrometheusName.escape(key) + "_total", type: .counter,
                help: "TigerBeetle counter tb.\(key), summed.", action: .counterAdd)
        default:
            return nil
        }
    }

    struct TimingParts {
        var base: String
        var stat: String
        func statMatches(_ type: MetricType) -> Bool {
            switch stat {
            case "sum", "count": type == .counter
            default: type == .gauge
            }
        }
    }

    /// `NAME_us.STAT` → (NAME, STAT) for STAT in sum, count, min, max, avg.
    static func timingParts(_ key: String) -> TimingParts? {
        guard let dot = key.lastIndex(of: ".") else { return nil }
        let stat = String(key[key.index(after: dot)...])
        guard ["sum", "count", "min", "max", "avg"].contains(stat) else { return nil }
        let head = key[..<dot]
        guard head.hasSuffix("_us"), head.count > 3 else { return nil }
        return TimingParts(base: String(head.dropLast(3)), stat: stat)
    }

    static func timingMapping(base: String, stat: String) -> MetricMapping {
        let known = timings[base]
        var name = known?.name ?? PrometheusName.escape(base)
        if known == nil { name = baseUnits(name).name.replacingSuffix("_seconds", with: "") }
        let what = known?.what ?? "tb.\(base)"
        let family = "tigerbeetle_\(name)_seconds"
        switch stat {
        case "sum":
            return MetricMapping(
                family: family, type: .summary,
                help: "Time spent in \(what), seconds (TigerBeetle's pre-aggregated timing; average = rate(_sum) / rate(_count)).",
                action: .summarySum, divisor: microseconds)
        case "count":
            return MetricMapping(
                family: family, type: .summary,
                help: "Time spent in \(what), seconds (TigerBeetle's pre-aggregated timing; average = rate(_sum) / rate(_count)).",
                action: .summaryCount, divisor: microseconds)
        default:
            let word = ["min": "Shortest", "max": "Longest", "avg": "Average"][stat]!
            return MetricMapping(
                family: "\(family)_\(stat)", type: .gauge,
                help: "\(word) time of \(what) \(interval), seconds.",
                action: .gaugeSet, divisor: microseconds)
        }
    }

    /// Converts a trailing `_ns`, `_us` or `_ms` into `_seconds` with its divisor.
    static func baseUnits(_ name: String) -> (name: String, divisor: Double) {
        for (suffix, divisor) in [("_ns", 1e9), ("_us", 1e6), ("_ms", 1e3)] where name.hasSuffix(suffix) {
            return (name.replacingSuffix(suffix, with: "_seconds"), divisor)
        }
        return (name, 1)
    }

    /// Gauges may not end in a suffix Prometheus reserves for counters, histograms and summaries.
    static func avoidReservedSuffix(_ name: String) -> String {
        for suffix in ["_total", "_count", "_sum", "_bucket"] where name.hasSuffix(suffix) {
            return name + "_value"
        }
        return name
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
