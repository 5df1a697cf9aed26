import TigerBeetle

/// What a series holds that ingest writes: one entry per series, so an update touches one cache line and checks
/// one array's uniqueness.
struct SeriesState: Sendable {
    /// Counter or gauge value; a summary's sum.
    var value: Double = 0
    /// A summary's number of observations.
    var observations: Double = 0
    /// Last update (8 bytes, as the nanoseconds it wraps).
    var updated: WallInstant = .epoch
}

/// Per-series columns.
struct SeriesColumns: Sendable {
    var family: [Int32] = []
    var labels: [String] = []
    var state: [SeriesState] = []

    var size: Int { family.count }

    mutating func append(family f: Int32, labels l: String) {
        family.append(f)
        labels.append(l)
        state.append(SeriesState())
    }

    mutating func append(from other: SeriesColumns, index i: Int, family f: Int32) {
        family.append(f)
        labels.append(other.labels[i])
        state.append(other.state[i])
    }
}
