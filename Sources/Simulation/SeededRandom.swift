/// The simulator's only source of chance: SplitMix64 from the seed, so a seed is a whole run, bit for bit, on any
/// machine. (Never `SystemRandomNumberGenerator`: the agent's own client ids are drawn from it, and the simulator
/// never reads them.)
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A whole number in `range`.
    public mutating func int(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }

    /// True with probability `percent` / 100.
    public mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    /// A random element (the collection is not empty).
    public mutating func pick<T>(_ items: [T]) -> T {
        precondition(!items.isEmpty, "a pick from nothing")
        return items[Int.random(in: items.indices, using: &self)]
    }
}
