import TigerBeetle

/// What a cached line shape does: which series, how, with what unit divisor. 24 bytes (one per cached shape): the
/// fields are laid out widest first.
struct LineTarget: Sendable {
    var divisor: Double
    /// The series, or `conflict` (the line's name is taken by another type), or `refused` (the series
    /// limit: such targets are not cached).
    var series: Int32
    static let conflict: Int32 = -1
    static let refused: Int32 = -2

    /// The TigerBeetle replica the line comes from (a `TigerBeetleSignals` slot), or -1.
    var replica: Int32 = -1
    /// Tags dropped (no `:` or an empty key). A line holds at most 32,768 tags (65,535 bytes, a comma each).
    var droppedTags: UInt16
    /// Labels dropped or renamed because Prometheus reserves their names (`__*`, `quantile` on a summary).
    var reservedLabels: UInt16 = 0
    var action: SampleAction
    /// The health signal the line carries, if any.
    var signal: ReplicaSignal? = nil
    /// Why a `tb.*` line with replica tags is not read as the replica's (counted per line), if so.
    var replicaIgnored: ReplicaLineIgnored? = nil

    init(
        series: Int32, action: SampleAction, divisor: Double, droppedTags: Int, reservedLabels: Int = 0
    ) {
        assert(droppedTags <= Int(UInt16.max) && reservedLabels <= Int(UInt16.max), "a line of at most 65,535 bytes")
        self.series = series
        self.action = action
        self.divisor = divisor
        self.droppedTags = UInt16(clamping: droppedTags)
        self.reservedLabels = UInt16(clamping: reservedLabels)
    }
}
