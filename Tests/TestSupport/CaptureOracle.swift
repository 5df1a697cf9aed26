/// What a scrape must show after a capture was sent, computed independently of
/// beetlewatch's own parser and store, by restating the naming rules simply.
public enum CaptureOracle {
    public enum Mode { case tigerbeetle, statsdExporter }

    /// Sample key `name{k="v",...}` (labels sorted) → expected value, for every series the capture implies.
    public static func expectedSeries(datagrams: [String], mode: Mode) -> [String: Double] {
        var out: [String: Double] = [:]
        for datagram in datagrams {
            for line in datagram.split(separator: "\n") where !line.isEmpty {
                let sections = line.split(separator: "|", omittingEmptySubsequences: false)
                let nameValue = sections[0].split(separator: ":", maxSplits: 1)
                let name = String(nameValue[0])
                let value = Double(nameValue[1])!
                let type = String(sections[1])
                var labels: [(String, String)] = []
                for section in sections.dropFirst(2) where section.hasPrefix("#") {
                    for tag in section.dropFirst().split(separator: ",") {
                        let kv = tag.split(separator: ":", maxSplits: 1)
                        labels.append((String(kv[0]), String(kv[1])))
                    }
                }
                let rendered =
                    labels.isEmpty ? "" : "{" + labels.sorted { $0.0 < $1.0 }.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
                switch mode {
                case .statsdExporter:
                    let key = name.replacingOccurrences(of: ".", with: "_") + rendered
                    out[key] = type == "c" ? (out[key] ?? 0) + value : value
                case .tigerbeetle:
                    let (family, accumulate, scale) = tigerBeetleName(name, type: type)
                    let key = family + rendered
                    out[key] = accumulate ? (out[key] ?? 0) + value * scale : value * scale
                }
            }
        }
        return out
    }

    /// The `tigerbeetle` naming rules, restated: (sample name, accumulates?, scale).
    static func tigerBeetleName(_ name: String, type: String) -> (String, Bool, Double) {
        var key = String(name.dropFirst(3))
        for stat in ["sum", "count", "min", "max", "avg"] where key.hasSuffix("_us.\(stat)") {
            key = String(key.dropLast("_us.\(stat)".count))
            if key.hasSuffix("_ns") { key = String(key.dropLast(3)) }
            let base = "tigerbeetle_\(key)_seconds"
            switch stat {
            case "sum": return (base + "_sum", true, 1e-6)
            case "count": return (base + "_count", true, 1)
            default: return (base + "_\(stat)", false, 1e-6)
            }
        }
        precondition(type == "g", "the capture has only timings and gauges")
        let renamed: [String: (String, Double)] = [
            "replica_start": ("replica_start_timestamp_seconds", 1e-9),
            "replica_commit_timestamp": ("replica_commit_timestamp_seconds", 1e-9),
            "clock_delta_ns": ("clock_delta_seconds", 1e-9),
            "grid_cache_hits": ("grid_cache_hits_total", 1),
            "grid_cache_misses": ("grid_cache_misses_total", 1),
            "lsm_manifest_block_count": ("lsm_manifest_blocks", 1),
        ]
        let (promName, scale) = renamed[key] ?? (key, 1)
        return ("tigerbeetle_" + promName, false, scale)
    }
}
