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
            if let view = cluster.highestView {
                out += "; view \(Int(view)), \(cluster.viewChanges) view change\(cluster.viewChanges == 1 ? "" : "s") seen"
            }
            out += "\n"
            if let canary = cluster.canary { out += "  canary: \(CanaryLine.text(canary, now: now))\n" }
            out += cluster.notes.map { "  note: \($0)\n" }.joined()
            var rows = [["REPLICA", "ADDRESS", "STATE", "VIEW", "COMMIT_MAX", "RELEASE", "LAST SEEN", "PROBE", "REASONS"]]
            for replica in cluster.replicas {
                rows.append([
                    String(replica.replica),
                    replica.address ?? "-",
                    replica.state.rawValue,
                    viewCell(replica),
                    replica.commitMax.map { String(Int($0)) } ?? "-",
                    replica.release ?? "-",
                    replica.lastSeen.map { ago(now - $0) } ?? "never",
                    replica.probe.map(probeCell) ?? "-",
                    replica.reasons.map { "\($0.state.rawValue): \($0.detail)" }.joined(separator: "; "),
                ])
            }
            out += table(rows).map { "  \($0)\n" }.joined()
        }
        return out
    }

    /// The view of its last pong, else of its StatsD.
    static func viewCell(_ replica: ReplicaVerdict) -> String {
        guard let view = replica.pongView ?? replica.view else { return "-" }
        return String(Int(view))
    }

    /// The round trip while it answers or connects; otherwise what the probe found.
    static func probeCell(_ probe: ProbeResult) -> String {
        switch probe.outcome {
        case .answering, .connected: format3(milliseconds: probe.durationSeconds)
        case .hung: "no pong"
        case .evicted: "evicted"
        case .unreachable: "failed"
        }
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
