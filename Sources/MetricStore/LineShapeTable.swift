#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A line's shape, borrowed from the datagram: its name, type and tags, what decides where its values go. Hashed and
/// compared in place: the ingest fast path copies nothing.
struct LineShape {
    var name: UnsafeRawBufferPointer
    var type: UInt8
    var tags: UnsafeRawBufferPointer

    /// The length of the shape as `name 0 type 0 tags`: compared first, before any byte.
    @inline(__always)
    var storedCount: Int { name.count + 3 + tags.count }
}

/// An open-addressing hash table keyed by line shapes, looked up straight from the borrowed bytes: the ingest
/// fast path finds a line's series without copying or allocating. A key is held as the numbers of its name and of each
/// of its tags (`key:value`, split at commas) in one `InternTable`, so a tag on many shapes (TigerBeetle's
/// `cluster:<32 hex digits>` on every line of a cluster) is held once; a key is compared piece by piece at known
/// lengths, with no scan. Shapes come from the network: the hash is seeded at random per table, so nobody can work out
/// names that pile into one run of slots (as `SeriesTable` uses Swift's seeded `Hasher`).
struct LineShapeTable<Value: Sendable>: Sendable {
    private let seed = UInt64.random(in: .min ... .max)
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    /// Entry `e`'s pieces (its name, then its tags in order) are `entryPieces[pieceStart(e)..<pieceEnds[e]]`.
    private var pieceEnds: [UInt32] = []
    private var entryPieces: [UInt32] = []
    private var pieces = InternTable()
    private var types: [UInt8] = []
    private var keyLengths: [Int32] = []
    private(set) var values: [Value] = []

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
    }

    var count: Int { values.count }

    /// `shape`'s hash under this table's seed.
    @inline(__always)
    func hash(_ shape: LineShape) -> UInt64 {
        Self.hash(shape.tags, seed: Self.hash(shape.name, seed: seed ^ UInt64(shape.type)))
    }

    /// 64-bit hash of `bytes` from `seed`, sixteen bytes a step in two independent lanes (the multiply chains
    /// overlap: half the latency of one lane), the last bytes read as one in-bounds word.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        let n = bytes.count
        var a = seed ^ (UInt64(n) &* k)
        var b = seed &+ 0x6A09_E667_F3BC_C909
        var i = 0
        while i &+ 16 <= n {
            a = (a ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
            b = (b ^ bytes.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)) &* k
            a ^= a >> 29
            b ^= b >> 29
            i &+= 16
        }
        if i &+ 8 <= n {
            a = (a ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
            a ^= a >> 29
            i &+= 8
        }
        var tail: UInt64 = 0
        if i < n {
            if n >= 8 {
                // The last 8 bytes, in bounds, shifted so that only the ones not hashed yet remain.
                tail = bytes.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self) >> (UInt64(8 &- (n &- i)) &* 8)
            } else {
                var shift: UInt64 = 0
                while i < n {
                    tail |= UInt64(bytes[i]) << shift
                    shift &+= 8
                    i &+= 1
                }
            }
        }
        var h = (a ^ tail) &* 0xBF58_476D_1CE4_E5B9
        h ^= (b &* k) ^ (h >> 31)
        h = h &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 29)
    }

    /// The index of `shape`'s entry, if present.
    @inline(__always)
    func find(_ shape: LineShape, hash: UInt64) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        let length = shape.storedCount
        return slots.withUnsafeBufferPointer { slots in
            hashes.withUnsafeBufferPointer { hashes in
                while true {
                    let entry = Int(slots[slot])
                    if entry < 0 { return nil }
                    if hashes[entry] == hash && Int(keyLengths[entry]) == length && matches(entry, shape) { return entry }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// Whether entry `entry` exists and is `shape` (no hash needed: a guess checked in full).
    @inline(__always)
    func holds(_ shape: LineShape, at entry: Int) -> Bool {
        entry >= 0 && entry < values.count && Int(keyLengths[entry]) == shape.storedCount && matches(entry, shape)
    }

    @inline(__always)
    private func matches(_ entry: Int, _ shape: LineShape) -> Bool {
        guard types[entry] == shape.type else { return false }
        let start = entry == 0 ? 0 : Int(pieceEnds[entry - 1])
        let end = Int(pieceEnds[entry])
        return pieces.withBytes { bytes in
            entryPieces.withUnsafeBufferPointer { numbers in
                let name = bytes.unchecked(numbers[start])
                guard name.count == shape.name.count, Self.equal(name.start, shape.name.baseAddress, name.count) else { return false }
                // The tags, piece by piece: each at its place, a comma between (the total length was checked already, so
                // the pieces' lengths and commas add up to the tags' unless a piece or comma differs).
                let tags = shape.tags
                guard let tagBytes = tags.baseAddress else { return end == start + 1 }
                var at = 0
                var k = start &+ 1
                while k < end {
                    if k > start &+ 1 {
                        guard at < tags.count, tagBytes.load(fromByteOffset: at, as: UInt8.self) == UInt8(ascii: ",") else { return false }
                        at &+= 1
                    }
                    let piece = bytes.unchecked(numbers[k])
                    guard at &+ piece.count <= tags.count, Self.equal(piece.start, tagBytes + at, piece.count) else { return false }
                    at &+= piece.count
                    k &+= 1
                }
                return at == tags.count
            }
        }
    }

    /// Whether `count` bytes at `a` and `b` are equal: eight at a time inline (a line's pieces are short: a call to
    /// `memcmp` for each cost more than the compare), the last eight read in bounds.
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer?, _ b: UnsafeRawPointer?, _ count: Int) -> Bool {
        guard count > 0, let a, let b else { return true }
        if count < 8 {
            var i = 0
            while i < count {
                if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
                i &+= 1
            }
            return true
        }
        if count > 32 { return memcmp(a, b, count) == 0 }
        var i = 0
        while i &+ 8 < count {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i &+= 8
        }
        return a.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
    }

    /// Inserts a shape known to be absent; returns its entry index.
    @discardableResult
    mutating func insert(_ shape: LineShape, hash: UInt64, value: Value) -> Int {
        if (values.count + 1) * 2 > slots.count { grow() }
        let entry = values.count
        hashes.append(hash)
        entryPieces.append(pieces.intern(shape.name))
        if !shape.tags.isEmpty {
            var start = 0
            while true {
                let comma = shape.tags[start...].firstIndex(of: UInt8(ascii: ",")) ?? shape.tags.count
                entryPieces.append(pieces.intern(UnsafeRawBufferPointer(rebasing: shape.tags[start..<comma])))
                if comma == shape.tags.count { break }
                start = comma + 1
            }
        }
        precondition(entryPieces.count <= Int(UInt32.max), "the cache starts over long before (twice the series limit)")
        pieceEnds.append(UInt32(entryPieces.count))
        types.append(shape.type)
        keyLengths.append(Int32(shape.storedCount))
        values.append(value)
        place(entry: entry, hash: hash)
        return entry
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        hashes.removeAll(keepingCapacity: true)
        pieceEnds.removeAll(keepingCapacity: true)
        entryPieces.removeAll(keepingCapacity: false)
        pieces = InternTable()
        types.removeAll(keepingCapacity: true)
        keyLengths.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    private mutating func place(entry: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry)
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for entry in 0..<values.count { place(entry: entry, hash: hashes[entry]) }
    }
}
