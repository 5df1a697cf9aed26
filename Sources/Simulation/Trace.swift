import TigerBeetle

/// What a simulated run did, line by line, and its digest (FNV-1a, 64 bits, over every line): the same seed gives the
/// same lines and the same digest, on any machine.
public struct Trace: Sendable {
    public private(set) var lines: [String] = []
    public private(set) var digest: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Adds a line at simulated time `at`.
    public mutating func add(at: MonotonicInstant, _ text: String) {
        let line = "\(FaultPlan.seconds(at).leftPadded(8, with: " ")) \(text)"
        for byte in line.utf8 {
            digest ^= UInt64(byte)
            digest = digest &* 0x100_0000_01b3
        }
        digest ^= 0x0a
        digest = digest &* 0x100_0000_01b3
        lines.append(line)
    }

    public var digestHex: String { String(digest, radix: 16).leftPadded(16) }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character) -> String { String(repeating: pad, count: max(0, width - count)) + self }
}
