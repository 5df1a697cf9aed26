/// A series' identity: its family and its rendered labels (`{a="1",b="2"}`: sorted and escaped,
/// so equal label sets render equally). The string is the one the series stores, shared, not a copy.
struct SeriesKey: Hashable, Sendable {
    var family: Int32
    var labels: String
}
