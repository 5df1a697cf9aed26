#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing hash table keyed by byte strings, looked up straight from
/// borrowed bytes: the ingest fast path finds a line's series without allocating.
/// Keys are copied once, into one arena, when inserted.
struct ByteKeyTable<Value: Sendable>: Sendable {
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

    /// 64-bit hash of `key`, eight bytes at a time.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(key.count)
        var i = 0
        let n = key.count
        while i + 8 <= n {
            h = (h ^ key.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(key[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 31)
    }

    /// The index of `key`'s entry, if present.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { return nil }
            if hashes[entry] == hash && Int(keyLengths[entry]) == key.count {
                let offset = keyOffsets[entry]
                let equal = arena.withUnsafeBytes { bytes in
                    key.isEmpty || memcmp(bytes.baseAddress! + offset, key.baseAddress!, key.count) == 0
                }
                if equal { return entry }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Inserts a key known to be absent; returns its entry index.
    @discardableResult
    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64, value: Value) -> Int {
        if (values.count + 1) * 2 > slots.count { grow() }
        let entry = values.count
        hashes.append(hash)
        keyOffsets.append(arena.count)
        keyLengths.append(Int32(key.count))
        arena.append(contentsOf: key)
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

    /// Approximate bytes held, for memory accounting.
    var memoryFootprint: Int {
        slots.capacity * 4 + hashes.capacity * 8 + keyOffsets.capacity * 8 + keyLengths.capacity * 4
            + arena.capacity + values.capacity * MemoryLayout<Value>.stride
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
