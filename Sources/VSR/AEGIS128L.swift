/// TigerBeetle's checksum: AEGIS-128L (the AEAD, not the standardised AEGIS-MAC) with a zero key and a
/// zero nonce over an empty message, the checksummed bytes as associated data, and the 128-bit tag as
/// the checksum (src/vsr/checksum.zig). Pure and allocation-free; speed is no concern (a few headers a second).
public enum AEGIS128L {
    /// The tag of `bytes` as associated data, as 16 bytes in the order TigerBeetle writes them.
    public static func checksum(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var state = State()
        var block = [UInt8](repeating: 0, count: 32)
        var filled = 0
        var length: UInt64 = 0
        for byte in bytes {
            block[filled] = byte
            filled += 1
            length &+= 1
            if filled == 32 {
                state.absorb(block)
                filled = 0
            }
        }
        if filled > 0 {
            for i in filled..<32 { block[i] = 0 }
            state.absorb(block)
        }
        return state.finalize(associatedBits: length &* 8)
    }

    /// The eight 128-bit blocks of AEGIS-128L's state.
    struct State {
        var s: [[UInt8]]

        static let c0: [UInt8] = [0x00, 0x01, 0x01, 0x02, 0x03, 0x05, 0x08, 0x0d, 0x15, 0x22, 0x37, 0x59, 0x90, 0xe9, 0x79, 0x62]
        static let c1: [UInt8] = [0xdb, 0x3d, 0x18, 0x55, 0x6d, 0xc2, 0x2f, 0xf1, 0x20, 0x11, 0x31, 0x42, 0x73, 0xb5, 0x28, 0xdd]

        /// Initialised with key 0 and nonce 0: key ⊕ nonce, key ⊕ c0 and key ⊕ c1 are just 0, c0 and c1.
        init() {
            let zero = [UInt8](repeating: 0, count: 16)
            s = [zero, Self.c1, Self.c0, Self.c1, zero, Self.c0, Self.c1, Self.c0]
            for _ in 0..<10 { update(zero, zero) }
        }

        mutating func absorb(_ block: [UInt8]) {
            update(Array(block[0..<16]), Array(block[16..<32]))
        }

        mutating func update(_ m0: [UInt8], _ m1: [UInt8]) {
            let old = s
            s[0] = AESRound.apply(old[7], key: xor(old[0], m0))
            s[1] = AESRound.apply(old[0], key: old[1])
            s[2] = AESRound.apply(old[1], key: old[2])
            s[3] = AESRound.apply(old[2], key: old[3])
            s[4] = AESRound.apply(old[3], key: xor(old[4], m1))
            s[5] = AESRound.apply(old[4], key: old[5])
            s[6] = AESRound.apply(old[5], key: old[6])
            s[7] = AESRound.apply(old[6], key: old[7])
        }

        /// Seven updates with S2 ⊕ (associated-data bits ‖ message bits, 64-bit little-endian), then the tag
        /// S0 ⊕ … ⊕ S6.
        mutating func finalize(associatedBits: UInt64) -> [UInt8] {
            var sizes = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 { sizes[i] = UInt8(truncatingIfNeeded: associatedBits >> (8 * UInt64(i))) }
            let t = xor(s[2], sizes)
            for _ in 0..<7 { update(t, t) }
            var tag = s[0]
            for i in 1...6 { tag = xor(tag, s[i]) }
            return tag
        }

        func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
            (0..<16).map { a[$0] ^ b[$0] }
        }
    }
}
