/// What a cached line shape does: which series, how, with what unit scale.
struct LineTarget: Sendable {
    /// -1 when the line's name is taken by another type (a conflict).
    var series: Int32
    var action: SampleAction
    var scale: Double
    var droppedTags: UInt32
    /// The TigerBeetle replica the line comes from (a `TigerBeetleSignals` slot), or -1.
    var replica: Int32 = -1
    /// The health signal the line carries, if any.
    var signal: ReplicaSignal? = nil
}
