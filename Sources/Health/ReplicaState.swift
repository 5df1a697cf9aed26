/// A replica's verdict. When several hold, the state is the first in `severityOrder`;
/// the verdict still lists every reason.
public enum ReplicaState: String, Sendable, CaseIterable, Codable {
    case healthy
    /// Its TCP port does not accept connections.
    case unreachable
    /// It accepts connections but its event loop does not answer pings: stopped or stuck.
    case hung
    /// No StatsD from it for longer than `--statsd.stale-after`.
    case silent
    /// `replica_status` is not 0 (view_change, recovering, recovering_head).
    case abnormal
    /// `replica_sync_stage` is not 0: state sync is under way.
    case syncing
    /// Connected to fewer peer replicas than it needs to be part of a quorum.
    case isolated
    /// Its view is below its cluster's, or its `commit_max` trails the cluster's while the others advance.
    case behind
    /// beetlewatch cannot reach it (no answer and no refusal: connects time out, pings go unacknowledged) while its
    /// cluster commits beetlewatch's canary request: not known to be down; beetlewatch's own network is the suspect.
    case unobserved
    /// Not enough data yet (before the first probe or the first StatsD).
    case unknown

    public static let severityOrder: [ReplicaState] = [
        .unreachable, .hung, .silent, .abnormal, .syncing, .isolated, .behind, .unobserved, .unknown, .healthy,
    ]

    /// TigerBeetle's `replica_status` values.
    public static func statusName(_ status: Int) -> String {
        switch status {
        case 0: "normal"
        case 1: "view_change"
        case 2: "recovering"
        case 3: "recovering_head"
        default: "status_\(status)"
        }
    }
}

/// One reason a replica is not healthy, in words an operator can act on.
public struct Reason: Sendable, Equatable, Codable {
    public var state: ReplicaState
    public var detail: String

    public init(_ state: ReplicaState, _ detail: String) {
        self.state = state
        self.detail = detail
    }
}
