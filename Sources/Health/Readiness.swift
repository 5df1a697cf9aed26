/// What `/ready` demands (`--ready.require`).
public enum ReadinessRequirement: String, Sendable, CaseIterable, Codable {
    /// Every watched cluster has a healthy majority.
    case quorum
    /// Every replica of every watched cluster is healthy.
    case all
}

/// The `/ready` answer: whether ready, and why not, in lines a person can read.
public struct ReadinessVerdict: Sendable, Equatable, Codable {
    public var ready: Bool
    public var require: ReadinessRequirement
    /// One line a cluster, then one a failing replica, with its reasons.
    public var lines: [String]

    public var text: String { (ready ? "ready\n" : "not ready\n") + lines.map { $0 + "\n" }.joined() }
}

public enum Readiness {
    public static func evaluate(_ report: HealthReport, require: ReadinessRequirement) -> ReadinessVerdict {
        let watched = report.clusters.filter(\.watched)
        var lines: [String] = []
        var ready = true
        if watched.isEmpty {
            // Nothing configured: ready once replicas are heard from and all of them are healthy.
            if report.clusters.isEmpty {
                return ReadinessVerdict(
                    ready: false, require: require,
                    lines: [
                        "waiting for StatsD from any TigerBeetle replica (no cluster configured: set --tigerbeetle.cluster and --tigerbeetle.addresses)"
                    ])
            }
            for cluster in report.clusters {
                let clusterReady = cluster.replicas.allSatisfy(\.healthy)
                ready = ready && clusterReady
                lines.append(describe(cluster))
                lines += failingReplicas(cluster)
            }
            return ReadinessVerdict(ready: ready, require: require, lines: lines)
        }
        for cluster in watched {
            let clusterReady = require == .all ? cluster.replicas.allSatisfy(\.healthy) : cluster.quorum == true
            ready = ready && clusterReady
            let waiting = cluster.replicas.filter { $0.state == .unknown }
            if !clusterReady && !waiting.isEmpty && cluster.replicas.allSatisfy({ $0.healthy || $0.state == .unknown }) {
                lines.append(
                    "cluster \(label(cluster)): waiting for "
                        + waiting.map { "replica \($0.replica) (\($0.reasons.map(\.detail).joined(separator: "; ")))" }.joined(
                            separator: ", "))
            } else {
                lines.append(describe(cluster) + (require == .all && !clusterReady ? "; --ready.require=all needs every replica" : ""))
            }
            lines += failingReplicas(cluster)
        }
        return ReadinessVerdict(ready: ready, require: require, lines: lines)
    }

    static func label(_ cluster: ClusterVerdict) -> String {
        cluster.name.map { "\($0) (\(cluster.id))" } ?? cluster.id
    }

    static func describe(_ cluster: ClusterVerdict) -> String {
        "cluster \(label(cluster)): \(cluster.summary)"
    }

    static func failingReplicas(_ cluster: ClusterVerdict) -> [String] {
        cluster.replicas.filter { !$0.healthy }.map { replica in
            "  replica \(replica.replica)\(replica.address.map { " (\($0))" } ?? ""): "
                + replica.reasons.map { "\($0.state.rawValue): \($0.detail)" }.joined(separator: "; ")
        }
    }
}
