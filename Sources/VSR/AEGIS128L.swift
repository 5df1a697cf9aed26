/// TigerBeetle's checksum: AEGIS-128L (the AEAD, not the standardised AEGIS-MAC) with a zero key and a
/// zero nonce over an empty message, the checksummed bytes as associated data, and the 128-bit tag as
/// the checksum (src/vsr/checksum.zig). Pure; no allocation but the returned tag (the prober checksums
/// two headers per replica per second: at 1,000 replicas that is 2,000 a second).
public enum AEGIS128L {
    typealias Block = AESRound.Block

    /// The tag of `bytes` as associated data, as 16 bytes in the order TigerBeetle writes them.
    public static func checksum(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let tag = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return tag }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        // An empty body's checksum (every ping's and pong's) is one constant, and every state starts from the same ten
        // rounds: both worked out once (the prober's checksums took a fifth of its time, 1,000 replicas answering).
        if bytes.isEmpty { return emptyChecksum }
        var state = State.initial
        var offset = 0
        while offset + 32 <= bytes.count {
            state.update(AESRound.load(bytes, at: offset), AESRound.load(bytes, at: offset + 16))
            offset += 32
        }
        if offset < bytes.count {
            // The last partial block, zero-padded.
            var padded = (Block(repeating: 0), Block(repeating: 0))
            withUnsafeMutableBytes(of: &padded) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            withUnsafeBytes(of: padded) { state.update(AESRound.load($0, at: 0), AESRound.load($0, at: 16)) }
        }
        return AESRound.bytes(state.finalize(associatedBits: UInt64(bytes.count) &* 8))
    }

    /// The checksum of no bytes.
    static let emptyChecksum: [UInt8] = {
        var state = State()
        return AESRound.bytes(state.finalize(associatedBits: 0))
    }()

    /// The eight 128-bit blocks of AEGIS-128L's state.
    struct State {
        var s0, s1, s2, s3, s4, s5, s6, s7: Block

        static let c0 = AESRound.load(
            [0x00, 0x01, 0x01, 0x02, 0x03, 0x05, 0x08, 0x0d, 0x15, 0x22, 0x37, 0x59, 0x90, 0xe9, 0x79, 0x62], at: 0)
        static let c1 = AESRound.load(
            [0xdb, 0x3d, 0x18, 0x55, 0x6d, 0xc2, 0x2f, 0xf1, 0x20, 0x11, 0x31, 0x42, 0x73, 0xb5, 0x28, 0xdd], at: 0)

        /// The state after initialisation (`init()`), for every checksum to start from.
        static let initial = State()

        /// Initialised with key 0 and nonce 0: key ⊕ nonce, key ⊕ c0 and key ⊕ c1 are just 0, c0 and c1.
        init() {
            let zero = Block(repeating: 0)
            (s0, s1, s2, s3, s4, s5, s6, s7) = (zero, Self.c1, Self.c0, Self.c1, zero, Self.c0, Self.c1, Self.c0)
            for _ in 0..<10 { update(zero, zero) }
        }

        @inline(__always)
        mutating func update(_ m0: Block, _ m1: Block) {
            (s0, s1, s2, s3, s4, s5, s6, s7) = (
                AESRound.apply(s7, key: s0 ^ m0), AESRound.apply(s0, key: s1), AESRound.apply(s1, key: s2), AESRound.apply(s2, key: s3),
                AESRound.apply(s3, key: s4 ^ m1), AESRound.apply(s4, key: s5), AESRound.apply(s5, key: s6), AESRound.apply(s6, key: s7)
            )
        }

        /// Seven updates with S2 ⊕ (associated-data bits ‖ message bits, 64-bit little-endian), then the tag
        /// S0 ⊕ … ⊕ S6.
        mutating func finalize(associatedBits: UInt64) -> Block {
            let sizes = Block(UInt32(truncatingIfNeeded: associatedBits), UInt32(truncatingIfNeeded: associatedBits >> 32), 0, 0)
            let t = s2 ^ sizes
            for _ in 0..<7 { update(t, t) }
            return s0 ^ s1 ^ s2 ^ s3 ^ s4 ^ s5 ^ s6
        }
    }
}
