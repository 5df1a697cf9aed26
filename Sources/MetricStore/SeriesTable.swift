/// Series by identity (family, label pair numbers): an open-addressing table of series numbers that compares
/// identities against the columns themselves, so a series costs 4 bytes a slot (at most half the slots in use)
/// instead of a dictionary entry holding its key. Hashed with Swift's per-process seeded `Hasher`, so crafted
/// label sets cannot aim at one slot.
struct SeriesTable: Sendable {
    private var slots: [Int32] = Array(repeating: -1, count: 16)
    private(set) var count = 0

    /// Every series in `columns`, each identity once.
    init(columns: SeriesColumns) {
        rebuild(columns, size: 16)
    }

    init() {}

    func find(family: Int32, pairNumbers: [UInt32], in columns: SeriesColumns) -> Int32? {
        let mask = slots.count - 1
        var slot = Self.hash(family, pairNumbers[...]) & mask
        while true {
            let s = slots[slot]
            if s < 0 { return nil }
            if columns.family[Int(s)] == family && columns.labels(of: Int(s), equal: pairNumbers) { return s }
            slot = (slot + 1) & mask
        }
    }

    /// Indexes series `s`, the last appended to `columns` (its identity known to be new).
    mutating func insert(_ s: Int32, columns: SeriesColumns) {
        count += 1
        if count * 2 > slots.count {
            rebuild(columns, size: slots.count * 2)
        } else {
            place(s, Self.hash(columns.family[Int(s)], columns.labelPairs[columns.labelRange(Int(s))]))
        }
    }

    private mutating func rebuild(_ columns: SeriesColumns, size: Int) {
        var size = size
        while size < columns.size * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        count = columns.size
        for s in 0..<columns.size { place(Int32(s), Self.hash(columns.family[s], columns.labelPairs[columns.labelRange(s)])) }
    }

    private mutating func place(_ s: Int32, _ hash: Int) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = s
    }

    private static func hash(_ family: Int32, _ pairNumbers: ArraySlice<UInt32>) -> Int {
        var hasher = Hasher()
        hasher.combine(family)
        for p in pairNumbers { hasher.combine(p) }
        return hasher.finalize()
    }
}
