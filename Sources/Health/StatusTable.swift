/// `beetlewatch status`: the model as a table for a person at a terminal.
public enum StatusTable {
    public static func render(_ document: StatusDocument, now: Double) -> String {
        var out = document.ready.ready ? "READY" : "NOT READY"
        out += " (require \(document.ready.require.rawValue))\n"
        if document.health.clusters.isEmpty {
            out += document.ready.lines.map { "  \($0)\n" }.joined()
            return out
        }
        for cluster in document.health.clusters {
            out += "\ncluster \(cluster.name.map { "\($0) (\(cluster.id))" } ?? cluster.id)\(cluster.watched ? "" : " [not configured]")\n"
            out += "  \(cluster.summary)"
            if let view = cluster.highestView { out += "; view \(Int(view)), \(cluster.viewChanges) view change\(cluster.viewChanges == 1 ? "" : "s") seen" }
            out += "\n"
            var rows = [["REPLICA", "ADDRESS", "STATE", "VIEW", "COMMIT_MAX", "LAST SEEN", "PROBE", "REASONS"]]
            for replica in cluster.replicas {
                rows.append([
                    String(replica.replica),
                    replica.address ?? "-",
                    replica.state.rawValue,
                    replica.view.map { String(Int($0)) } ?? "-",
                    replica.commitMax.map { String(Int($0)) } ?? "-",
                    replica.lastSeen.map { ago(now - $0) } ?? "never",
                    replica.probe.map { $0.success ? String(format3(milliseconds: $0.durationSeconds)) : "failed" } ?? "-",
                    replica.reasons.map { "\($0.state.rawValue): \($0.detail)" }.joined(separator: "; "),
                ])
            }
            out += table(rows).map { "  \($0)\n" }.joined()
        }
        return out
    }

    static func ago(_ seconds: Double) -> String {
        seconds < 1 ? "just now" : "\(Int(seconds.rounded()))s ago"
    }

    static func format3(milliseconds seconds: Double) -> String {
        let ms = seconds * 1000
        return ms < 10 ? "\((ms * 10).rounded() / 10) ms" : "\(Int(ms.rounded())) ms"
    }

    /// Left-aligned columns, two spaces apart; the last column is not padded.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
