/// What a cached line shape does: which series, how, with what unit scale.
struct LineTarget: Sendable {
    /// -1 when the line's name is taken by another type (a conflict).
    var series: Int32
    var action: SampleAction
    var scale: Double
    var droppedTags: UInt32
}
