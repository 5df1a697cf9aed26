import VSR

/// The headers a TigerBeetle replica answers a ping with, for the fake replica and the session tests:
/// `pong_client` and `eviction`, laid out as facts.md and the recorded exchanges show them. Test code
/// only: beetlewatch itself never encodes anything but `ping_client`.
public enum ReplicaReplies {
    public static func pong(cluster: UInt128, replica: UInt8, view: UInt32, release: Release, timestamp: UInt64) -> [UInt8] {
        var bytes = base(cluster: cluster, replica: replica, view: view, release: release, command: 4)
        put(timestamp, at: 128, in: &bytes)
        return sealed(bytes)
    }

    /// `reason`: 2 = client release too low, 3 = too high.
    public static func eviction(cluster: UInt128, replica: UInt8, view: UInt32, release: Release, client: UInt128, reason: UInt8) -> [UInt8]
    {
        var bytes = base(cluster: cluster, replica: replica, view: view, release: release, command: 18)
        put(client, at: 128, in: &bytes)
        bytes[255] = reason
        return sealed(bytes)
    }

    /// What a ping's header says, read back (the fake replica's side).
    public struct Ping: Sendable, Equatable {
        public var cluster: UInt128
        public var command: UInt8
        public var release: Release
        public var client: UInt128
        public var timestamp: UInt64
        public var checksumValid: Bool
    }

    public static func readPing(_ bytes: [UInt8]) -> Ping {
        Ping(
            cluster: get(UInt128.self, at: 80, bytes), command: bytes[114], release: Release(packed: get(UInt32.self, at: 108, bytes)),
            client: get(UInt128.self, at: 128, bytes), timestamp: get(UInt64.self, at: 144, bytes),
            checksumValid: Array(bytes[0..<16]) == AEGIS128L.checksum(bytes[16..<256]))
    }

    static func base(cluster: UInt128, replica: UInt8, view: UInt32, release: Release, command: UInt8) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 256)
        bytes.replaceSubrange(32..<48, with: AEGIS128L.checksum([]))
        put(cluster, at: 80, in: &bytes)
        put(UInt32(256), at: 96, in: &bytes)
        put(view, at: 104, in: &bytes)
        put(release.packed, at: 108, in: &bytes)
        bytes[114] = command
        bytes[115] = replica
        return bytes
    }

    static func sealed(_ header: [UInt8]) -> [UInt8] {
        var bytes = header
        bytes.replaceSubrange(0..<16, with: AEGIS128L.checksum(bytes[16..<256]))
        return bytes
    }

    static func put<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<(T.bitWidth / 8) { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    static func get<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int, _ bytes: [UInt8]) -> T {
        var value: T = 0
        for i in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
