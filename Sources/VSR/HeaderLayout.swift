/// Where a VSR header's fields are (src/vsr/message_header.zig, 0.17.9): little-endian, 256 bytes.
enum HeaderLayout {
    static let checksum = 0
    static let checksumPadding = 16
    static let checksumBody = 32
    static let cluster = 80
    static let size = 96
    static let epoch = 100
    static let view = 104
    static let release = 108
    static let protocolVersion = 112
    static let command = 114
    static let replica = 115
    /// ping_client: client u128, then ping_timestamp_monotonic u64, then session u64.
    static let pingClient = 128
    static let pingTimestamp = 144
    /// pong_client: the echoed ping_timestamp_monotonic.
    static let pongTimestamp = 128
    /// eviction: client u128, reason u8 in the last byte.
    static let evictionClient = 128
    static let evictionReason = 255

    static func put<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<(T.bitWidth / 8) { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    static func put(_ raw: [UInt8], at offset: Int, in bytes: inout [UInt8]) {
        bytes.replaceSubrange(offset..<(offset + raw.count), with: raw)
    }

    static func get<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int, in bytes: [UInt8]) -> T {
        var value: T = 0
        for i in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
