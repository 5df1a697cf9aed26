/// A replica of a TigerBeetle cluster, as its StatsD tags name it.
public struct ReplicaKey: Hashable, Sendable, Comparable, Codable {
    /// The `cluster` tag: 32 lowercase hex digits.
    public var cluster: String
    /// The `replica` tag: 0...255 (TigerBeetle's replica index is a u8).
    public var replica: Int

    public init(cluster: String, replica: Int) {
        self.cluster = cluster
        self.replica = replica
    }

    public static func < (a: ReplicaKey, b: ReplicaKey) -> Bool {
        (a.cluster, a.replica) < (b.cluster, b.replica)
    }

    /// The key named by a line's `cluster` and `replica` tag values, or why they name none.
    /// TigerBeetle writes the cluster id as 32 zero-padded lowercase hex digits and the replica
    /// index as a decimal u8; anything else is not a replica's line.
    public static func parse(cluster: String, replica: String) -> Result<ReplicaKey, ReplicaLineIgnored> {
        guard ClusterID.isTagForm(cluster) else { return .failure(.invalidClusterTag) }
        let digits = replica.utf8
        guard (1...3).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
            let index = Int(replica), index <= 255
        else { return .failure(.invalidReplicaTag) }
        return .success(ReplicaKey(cluster: cluster, replica: index))
    }
}

/// Why a `tb.*` line with `cluster` and `replica` tags was kept only as an ordinary metric,
/// not read as a replica's signals. The raw value is the `reason` label of
/// `beetlewatch_statsd_replica_lines_ignored_total`.
public enum ReplicaLineIgnored: String, Error, Sendable, CaseIterable {
    /// The `cluster` tag is not 32 lowercase hex digits (as TigerBeetle sends it).
    case invalidClusterTag = "invalid_cluster_tag"
    /// The `replica` tag is not a whole number from 0 to 255.
    case invalidReplicaTag = "invalid_replica_tag"
    /// The cluster is not watched and `--limits.max-unwatched-clusters` are already tracked.
    case unwatchedClusterLimit = "unwatched_cluster_limit"
}
