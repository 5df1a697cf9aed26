/// A family and its series, in label order: `sorted` plus a small unsorted tail
/// merged in when it grows, so that adding series stays cheap and a scrape sorts little.
struct Family: Sendable {
    var name: String
    var type: FamilyType
    var help: String
    /// The unit conversion applied when a value is read (`MetricMapping.readDivisor`): sums hold the sender's unit.
    var divisor: Double
    var sorted: [Int32] = []
    var pending: [Int32] = []

    mutating func mergePendingIfLarge(columns: SeriesColumns) {
        guard pending.count > 64 + sorted.count / 8 else { return }
        sorted = inLabelOrder(columns: columns)
        pending = []
    }

    /// Every series of the family in label order: `sorted` merged with the sorted tail.
    func inLabelOrder(columns: SeriesColumns) -> [Int32] {
        if pending.isEmpty { return sorted }
        return columns.pairs.withBytes { bytes in merged(columns: columns, bytes: bytes) }
    }

    private func merged(columns: SeriesColumns, bytes: InternedBytes) -> [Int32] {
        let precedes = { (a: Int32, b: Int32) in columns.labelsPrecede(a, b, bytes) }
        let tail = pending.sorted(by: precedes)
        var merged: [Int32] = []
        merged.reserveCapacity(sorted.count + tail.count)
        var a = 0
        var b = 0
        while a < sorted.count || b < tail.count {
            if b == tail.count || (a < sorted.count && precedes(sorted[a], tail[b])) {
                merged.append(sorted[a])
                a += 1
            } else {
                merged.append(tail[b])
                b += 1
            }
        }
        return merged
    }
}
