/// A TigerBeetle cluster id (a u128) in the two forms beetlewatch meets: the decimal number
/// `tigerbeetle --cluster` takes, and the 32 zero-padded lowercase hex digits of the StatsD `cluster` tag.
public enum ClusterID {
    /// The StatsD tag's form of `id`.
    public static func hex(_ id: UInt128) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 32 - digits.count) + digits
    }

    /// The id a StatsD tag names, or nil when the text is not 32 lowercase hex digits.
    public static func value(hex text: String) -> UInt128? {
        isTagForm(text) ? UInt128(text, radix: 16) : nil
    }

    /// Whether `text` is a cluster id as the StatsD tag writes it: 32 lowercase hex digits.
    public static func isTagForm(_ text: String) -> Bool {
        let utf8 = text.utf8
        return utf8.count == 32 && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The id a configuration names in decimal, or nil when the text is not a decimal u128 (no sign, no spaces).
    public static func value(decimal text: String) -> UInt128? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt128(text, radix: 10)
    }
}
