import Testing

@testable import VSR

func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

@Suite struct ChecksumTests {
    /// The vectors in facts.md, read from TigerBeetle's src/vsr/checksum.zig.
    @Test func checksumOfNothing() {
        #expect(hex(AEGIS128L.checksum([])) == "83cc600dc4e3e7e62d4055826174f149")
    }

    @Test func checksumOfSixteenZeroBytes() {
        #expect(hex(AEGIS128L.checksum([UInt8](repeating: 0, count: 16))) == "f72ad48dd05dd1656133101cd4be3a26")
    }

    /// FIPS-197's AES round check: one round of the cipher example's state (appendix B, round 1).
    @Test func oneAESRoundAsFIPS197() {
        let start: [UInt8] = [0x19, 0x3d, 0xe3, 0xbe, 0xa0, 0xf4, 0xe2, 0x2b, 0x9a, 0xc6, 0x8d, 0x2a, 0xe9, 0xf8, 0x48, 0x08]
        let roundKey: [UInt8] = [0xa0, 0xfa, 0xfe, 0x17, 0x88, 0x54, 0x2c, 0xb1, 0x23, 0xa3, 0x39, 0x39, 0x2a, 0x6c, 0x76, 0x05]
        #expect(hex(AESRound.apply(start, key: roundKey)) == "a49c7ff2689f352b6b5bea43026a5049")
    }
}
