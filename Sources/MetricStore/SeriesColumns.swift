/// Per-series columns.
struct SeriesColumns: Sendable {
    var family: [Int32] = []
    var labels: [String] = []
    /// Counter or gauge value; a summary's sum.
    var value: [Double] = []
    /// A summary's number of observations.
    var observations: [Double] = []
    /// Last update, nanoseconds since the epoch.
    var updated: [Int64] = []

    var size: Int { family.count }

    mutating func append(family f: Int32, labels l: String) {
        family.append(f)
        labels.append(l)
        value.append(0)
        observations.append(0)
        updated.append(0)
    }

    mutating func append(from other: SeriesColumns, index i: Int, family f: Int32) {
        family.append(f)
        labels.append(other.labels[i])
        value.append(other.value[i])
        observations.append(other.observations[i])
        updated.append(other.updated[i])
    }
}
