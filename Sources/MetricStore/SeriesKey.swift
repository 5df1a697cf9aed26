/// A series' identity: its family and labels.
struct SeriesKey: Hashable, Sendable {
    var family: Int32
    var labels: LabelSet
}
