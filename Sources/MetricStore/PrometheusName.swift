/// Name sanitising shared by metric and label names.
public enum PrometheusName {
    /// prometheus/statsd_exporter's `EscapeMetricName`: every character other than
    /// `[a-zA-Z0-9_]` becomes one `_` (a multi-byte character too), and a leading
    /// digit gets a `_` in front.
    public static func escape(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        if let first = name.unicodeScalars.first, ("0"..."9").contains(first) {
            out.append("_")
        }
        for scalar in name.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_": out.append(scalar)
            default: out.append("_")
            }
        }
        return String(out)
    }
}
