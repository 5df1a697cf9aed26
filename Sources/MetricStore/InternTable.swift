#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Distinct byte strings held once, in one arena, and known by number: the series' rendered label pairs
/// (`name="escaped value"`: a value that many series share, TigerBeetle's 32-digit `cluster` id on every series of a
/// cluster, is held once, not once per series) and the line-shape cache's names and tags. Found through an
/// open-addressing table of 4-byte slots hashed with Swift's per-process seeded `Hasher` (crafted strings cannot aim at
/// one slot).
struct InternTable: Sendable {
    private var slots: [Int32] = Array(repeating: -1, count: 16)
    /// String `p` is `arena[bounds[p]..<bounds[p + 1]]` (`bounds[0]` is 0).
    private var bounds: [Int] = [0]
    private var arena: [UInt8] = []

    var count: Int { bounds.count - 1 }

    /// The number of these bytes, if held.
    func find(_ rendered: UnsafeRawBufferPointer) -> UInt32? {
        let mask = slots.count - 1
        var slot = Self.hash(rendered) & mask
        return arena.withUnsafeBytes { arena in
            while true {
                let p = Int(slots[slot])
                if p < 0 { return nil }
                let start = bounds[p]
                if bounds[p + 1] - start == rendered.count
                    && (rendered.isEmpty || memcmp(arena.baseAddress! + start, rendered.baseAddress!, rendered.count) == 0)
                {
                    return UInt32(p)
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The number of these bytes, added when new.
    mutating func intern(_ rendered: UnsafeRawBufferPointer) -> UInt32 {
        if let held = find(rendered) { return held }
        let p = count
        precondition(p < Int(Int32.max), "strings are at most one per tag of each series or cached shape (their limits bound them)")
        arena.append(contentsOf: rendered)
        bounds.append(arena.count)
        if (p + 1) * 2 > slots.count {
            slots = Array(repeating: -1, count: slots.count * 2)
            for q in 0...p { place(q) }
        } else {
            place(p)
        }
        return UInt32(p)
    }

    /// Calls `body` with the strings' bytes, readable by number for as long as it runs.
    func withBytes<R>(_ body: (InternedBytes) -> R) -> R {
        arena.withUnsafeBytes { arena in
            bounds.withUnsafeBufferPointer { bounds in body(InternedBytes(arena: arena, bounds: bounds)) }
        }
    }

    private mutating func place(_ p: Int) {
        let hash = arena.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[bounds[p]..<bounds[p + 1]])) }
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(p)
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }
}

/// The strings' bytes, borrowed from an `InternTable` for the length of one `withBytes` call.
struct InternedBytes {
    let arena: UnsafeRawBufferPointer
    let bounds: UnsafeBufferPointer<Int>

    @inline(__always)
    subscript(p: UInt32) -> UnsafeRawBufferPointer {
        let p = Int(p)
        return UnsafeRawBufferPointer(rebasing: arena[bounds[p]..<bounds[p + 1]])
    }

    /// Where string `p` starts and how long it is, unchecked (the hot path of the line cache: `p` is a number the table
    /// gave out).
    @inline(__always)
    func unchecked(_ p: UInt32) -> (start: UnsafeRawPointer, count: Int) {
        let p = Int(p)
        let lower = bounds[p]
        return (arena.baseAddress.unsafelyUnwrapped + lower, bounds[p &+ 1] &- lower)
    }
}
