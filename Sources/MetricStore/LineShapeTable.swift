#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A line's shape, borrowed from the datagram: its name, type and tags, what decides where its values go.
/// Stored in the table as `name 0 type 0 tags`, but hashed and compared in place: the ingest fast path
/// copies nothing.
struct LineShape {
    var name: UnsafeRawBufferPointer
    var type: UInt8
    var tags: UnsafeRawBufferPointer

    /// Length of the stored key.
    @inline(__always)
    var storedCount: Int { name.count + 3 + tags.count }
}

/// An open-addressing hash table keyed by line shapes, looked up straight from the borrowed bytes: the ingest
/// fast path finds a line's series without copying or allocating. Keys are copied once, into one arena, when
/// inserted. Shapes come from the network: the hash is seeded at random per table, so nobody can work out names
/// that pile into one run of slots (as `SeriesTable` uses Swift's seeded `Hasher`).
struct LineShapeTable<Value: Sendable>: Sendable {
    private let seed = UInt64.random(in: .min ... .max)
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var keyOffsets: [Int] = []
    private var keyLengths: [Int32] = []
    private var arena: [UInt8] = []
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
        let offset = keyOffsets[entry]
        return arena.withUnsafeBytes { bytes in
            let stored = bytes.baseAddress! + offset
            let n = shape.name.count
            guard n == 0 || memcmp(stored, shape.name.baseAddress!, n) == 0 else { return false }
            guard stored.load(fromByteOffset: n, as: UInt8.self) == 0, stored.load(fromByteOffset: n + 1, as: UInt8.self) == shape.type,
                stored.load(fromByteOffset: n + 2, as: UInt8.self) == 0
            else { return false }
            return shape.tags.isEmpty || memcmp(stored + n + 3, shape.tags.baseAddress!, shape.tags.count) == 0
        }
    }

    /// Inserts a shape known to be absent; returns its entry index.
    @discardableResult
    mutating func insert(_ shape: LineShape, hash: UInt64, value: Value) -> Int {
        if (values.count + 1) * 2 > slots.count { grow() }
        let entry = values.count
        hashes.append(hash)
        keyOffsets.append(arena.count)
        keyLengths.append(Int32(shape.storedCount))
        arena.append(contentsOf: shape.name)
        arena.append(0)
        arena.append(shape.type)
        arena.append(0)
        arena.append(contentsOf: shape.tags)
        values.append(value)
        place(entry: entry, hash: hash)
        return entry
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        hashes.removeAll(keepingCapacity: true)
        keyOffsets.removeAll(keepingCapacity: true)
        keyLengths.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: false)
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
