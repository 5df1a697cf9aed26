/// Per cluster: the highest view any replica reported, and how far it has risen.
public struct ClusterViewHistory: Sendable, Equatable {
    public var highestView: Double?
    /// The sum of the rises of the highest view: a view change between two 10 s samples
    /// leaves no `replica_status` trace, but it leaves this one.
    public var viewChanges: UInt64 = 0
}
