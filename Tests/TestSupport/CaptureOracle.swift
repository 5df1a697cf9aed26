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

    /// Sample key → the exact decimal every series the capture implies must show in `tigerbeetle` mode, worked out in
    /// integers: TigerBeetle sends whole µs and ns, summed exactly and divided by their power of ten once, as text.
    /// A page value equal to `Double(exact)` carries no float noise (`0.01518`, not `0.015179999999999999`).
    public static func exactSeries(datagrams: [String]) -> [String: String] {
        var raw: [String: (value: Int64, digits: Int)] = [:]
        for datagram in datagrams {
            for line in datagram.split(separator: "\n") where !line.isEmpty {
                let sections = line.split(separator: "|", omittingEmptySubsequences: false)
                let nameValue = sections[0].split(separator: ":", maxSplits: 1)
                guard let value = Int64(nameValue[1]) else { preconditionFailure("the capture sends integers: \(line)") }
                var labels: [(String, String)] = []
                for section in sections.dropFirst(2) where section.hasPrefix("#") {
                    for tag in section.dropFirst().split(separator: ",") {
                        let kv = tag.split(separator: ":", maxSplits: 1)
                        labels.append((String(kv[0]), String(kv[1])))
                    }
                }
                let rendered = "{" + labels.sorted { $0.0 < $1.0 }.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
                let (family, accumulate, scale) = tigerBeetleName(String(nameValue[0]), type: String(sections[1]))
                let digits = scale == 1 ? 0 : scale == 1e-6 ? 6 : 9
                let key = family + rendered
                raw[key] = (accumulate ? (raw[key]?.value ?? 0) + value : value, digits)
            }
        }
        return raw.mapValues { decimal($0.value, shiftedRight: $0.digits) }
    }

    /// `value / 10^digits` as exact decimal text: `decimal(15180, shiftedRight: 6)` is `0.01518`.
    static func decimal(_ value: Int64, shiftedRight digits: Int) -> String {
        let sign = value < 0 ? "-" : ""
        var text = String(value.magnitude)
        guard digits > 0 else { return sign + text }
        if text.count <= digits { text = String(repeating: "0", count: digits - text.count + 1) + text }
        var fraction = String(text.suffix(digits))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let whole = String(text.dropLast(digits))
        return sign + whole + (fraction.isEmpty ? "" : "." + fraction)
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
