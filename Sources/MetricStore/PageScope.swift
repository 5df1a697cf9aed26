import TigerBeetle

/// Which part of the metrics a page shows. A fleet's Prometheus scrapes one page per cluster (found through the
/// service-discovery document) and one for the rest; together they are `/metrics`, each series on exactly one.
public enum PageScope: Sendable, Equatable {
    /// Every series.
    case all
    /// The series whose `cluster` label is this value (a TigerBeetle cluster id: 32 lowercase hex digits).
    case cluster(String)
    /// The series without a TigerBeetle cluster's `cluster` label: beetlewatch's own metrics and other StatsD senders'
    /// (a `cluster` label that is not 32 lowercase hex digits is not a TigerBeetle cluster's: it has no page of its own).
    case unclustered

    /// Whether a series with this `cluster` label value (nil: none) belongs on the page.
    public func includes(cluster: String?) -> Bool {
        switch self {
        case .all: true
        case .cluster(let id): cluster == id
        case .unclustered: cluster.map { !ClusterID.isTagForm($0) } ?? true
        }
    }
}
