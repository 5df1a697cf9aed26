import TigerBeetle

/// What a cached line shape does: which series, how, with what unit divisor.
struct LineTarget: Sendable {
    /// The series, or `conflict` (the line's name is taken by another type), or `refused` (the series
    /// limit: such targets are not cached).
    var series: Int32
    static let conflict: Int32 = -1
    static let refused: Int32 = -2
    var action: SampleAction
    var divisor: Double
    var droppedTags: UInt32
    /// Labels dropped or renamed because Prometheus reserves their names (`__*`, `quantile` on a summary).
    var reservedLabels: UInt32 = 0
    /// The TigerBeetle replica the line comes from (a `TigerBeetleSignals` slot), or -1.
    var replica: Int32 = -1
    /// The health signal the line carries, if any.
    var signal: ReplicaSignal? = nil
    /// Why a `tb.*` line with replica tags is not read as the replica's (counted per line), if so.
    var replicaIgnored: ReplicaLineIgnored? = nil
}
