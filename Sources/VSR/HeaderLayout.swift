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
    /// request: parent u128 (the previous reply's context), client u128, session u64, timestamp u64 (0), request
    /// u32, operation u8, previous_request_latency u32 (µs).
    static let requestParent = 128
    static let requestClient = 160
    static let requestSession = 176
    static let requestTimestamp = 184
    static let requestNumber = 192
    static let requestOperation = 196
    static let requestPreviousLatency = 200
    /// reply: request_checksum u128, context u128 (the next request's parent), client u128, op u64, commit u64 (for
    /// register: the session), timestamp u64, request u32, operation u8.
    static let replyRequestChecksum = 128
    static let replyContext = 160
    static let replyClient = 192
    static let replyOp = 208
    static let replyCommit = 216
    static let replyTimestamp = 224
    static let replyRequest = 232
    static let replyOperation = 236

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
