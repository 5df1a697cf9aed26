import TigerBeetle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

/// Per-series columns. A series' labels are the numbers of its pairs in `pairs`, in label-name order: 4 bytes a
/// label, the rendered text of each distinct pair held once.
struct SeriesColumns: Sendable {
    var family: [Int32] = []
    /// Series `s`'s pair numbers are `labelPairs[labelStart(s)..<labelEnds[s]]`.
    private(set) var labelEnds: [UInt32] = []
    private(set) var labelPairs: [UInt32] = []
    /// Each distinct label pair, rendered (`name="escaped value"`).
    private(set) var pairs = InternTable()
    /// Whether pair `p` is a TigerBeetle cluster's `cluster` label: what a cluster's page selects.
    private(set) var pairIsCluster: [Bool] = []
    static let clusterPrefix: [UInt8] = Array("cluster=\"".utf8)
    var state: [SeriesState] = []
    /// Every series of each TigerBeetle cluster's `cluster` label (by its pair number), in the order they came.
    private(set) var seriesOfCluster: [UInt32: [Int32]] = [:]

    var size: Int { family.count }

    /// Whether series with `count` more pairs still fit the 32-bit pair positions (always, below the series limit's
    /// maximum of 100M series of a few labels each; a store that gets there refuses new series).
    func hasRoom(forPairs count: Int) -> Bool {
        labelPairs.count + count <= Int(UInt32.max)
    }

    @inline(__always)
    func labelRange(_ s: Int) -> Range<Int> {
        (s == 0 ? 0 : Int(labelEnds[s - 1]))..<Int(labelEnds[s])
    }

    /// Appends a series with labels of these pair numbers (held in `pairs`), in label-name order.
    mutating func append(family f: Int32, pairNumbers: [UInt32]) {
        assert(hasRoom(forPairs: pairNumbers.count), "the store checks room before it creates a series")
        let s = Int32(family.count)
        family.append(f)
        labelPairs.append(contentsOf: pairNumbers)
        labelEnds.append(UInt32(labelPairs.count))
        state.append(SeriesState())
        for p in pairNumbers where pairIsCluster[Int(p)] { seriesOfCluster[p, default: []].append(s) }
    }

    /// Interns rendered pairs (`name="escaped value"`, in label-name order) and returns their numbers.
    mutating func intern(renderedPairs: [[UInt8]]) -> [UInt32] {
        renderedPairs.map { pair in pair.withUnsafeBytes { intern(pair: $0) } }
    }

    private mutating func intern(pair: UnsafeRawBufferPointer) -> UInt32 {
        let p = pairs.intern(pair)
        if Int(p) == pairIsCluster.count { pairIsCluster.append(Self.isTigerBeetleCluster(pair)) }
        assert(pairIsCluster.count == pairs.count, "one flag a pair")
        return p
    }

    /// Whether a rendered pair is a TigerBeetle cluster's label: `cluster="<32 lowercase hex digits>"` (such a value
    /// needs no escape).
    static func isTigerBeetleCluster(_ pair: UnsafeRawBufferPointer) -> Bool {
        guard pair.count == clusterPrefix.count + 33, pair.starts(with: clusterPrefix), pair.last == UInt8(ascii: "\"") else {
            return false
        }
        return ClusterID.isTagForm(String(decoding: pair[clusterPrefix.count..<(pair.count - 1)], as: UTF8.self))
    }

    /// The numbers of these rendered pairs, if every one is held (else no series has these labels).
    func find(renderedPairs: [[UInt8]]) -> [UInt32]? {
        var numbers: [UInt32] = []
        numbers.reserveCapacity(renderedPairs.count)
        for pair in renderedPairs {
            guard let p = pair.withUnsafeBytes({ pairs.find($0) }) else { return nil }
            numbers.append(p)
        }
        return numbers
    }

    /// Appends series `i` of `other`, its pairs interned here (compaction keeps only the pairs still used).
    mutating func append(from other: SeriesColumns, index i: Int, family f: Int32) {
        let numbers = other.pairs.withBytes { bytes in
            other.labelPairs[other.labelRange(i)].map { intern(pair: bytes[$0]) }
        }
        append(family: f, pairNumbers: numbers)
        state[state.count - 1] = other.state[i]
    }

    /// Whether series `s` has exactly these pair numbers.
    @inline(__always)
    func labels(of s: Int, equal numbers: [UInt32]) -> Bool {
        labelPairs[labelRange(s)].elementsEqual(numbers)
    }

    /// Whether series `s` has a TigerBeetle cluster's `cluster` label.
    func hasCluster(_ s: Int) -> Bool {
        labelPairs[labelRange(s)].contains { pairIsCluster[Int($0)] }
    }

    /// Whether series `a`'s rendered labels sort before series `b`'s, as their texts (`{a="1",b="2"}`) compare byte by
    /// byte: pair by pair, the first differing pair decides (no pair's text is a prefix of another's: a value ends at
    /// its one unescaped quote), and where one list is the other's start the longer sorts first (`,` < `}`).
    func labelsPrecede(_ a: Int32, _ b: Int32, _ bytes: InternedBytes) -> Bool {
        let ra = labelRange(Int(a))
        let rb = labelRange(Int(b))
        if ra.isEmpty || rb.isEmpty { return ra.isEmpty && !rb.isEmpty }
        var i = ra.lowerBound
        var j = rb.lowerBound
        while i < ra.upperBound && j < rb.upperBound {
            let pa = labelPairs[i]
            let pb = labelPairs[j]
            if pa != pb {
                let x = bytes[pa]
                let y = bytes[pb]
                let n = min(x.count, y.count)
                let order = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return order != 0 ? order < 0 : x.count < y.count
            }
            i += 1
            j += 1
        }
        return i < ra.upperBound && j == rb.upperBound
    }

    /// Series `s`'s labels as the text format writes them: `{a="1",b="2"}`, or empty.
    func renderedLabels(_ s: Int) -> String {
        pairs.withBytes { bytes in
            labelPairs.withUnsafeBufferPointer { numbers in
                SeriesLabels(numbers: UnsafeBufferPointer(rebasing: numbers[labelRange(s)]), bytes: bytes).rendered
            }
        }
    }
}
