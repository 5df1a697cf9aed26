import VSR

/// The messages a TigerBeetle replica answers with, for the fake replicas and the session tests: `pong_client`,
/// `eviction` and `reply`, laid out as docs/tigerbeetle-protocol.md and the recorded exchanges show them. Test code
/// only: beetlewatch itself encodes only `ping_client` and the canary's two requests.
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

    /// A `reply` to `request` (a canary request as sent), as the primary of `view` commits it at `commit`: for register,
    /// a `RegisterResult` (the session is the commit); for lookup_accounts, `found` accounts of 128 bytes and the
    /// multi-batch trailer. `context` is the next request's parent.
    public static func reply(
        to request: [UInt8], cluster: UInt128, primary: UInt8, view: UInt32, commit: UInt64, context: UInt128, found: Int = 0,
        batchSizeLimit: UInt32 = 32_512
    ) -> [UInt8] {
        let read = readRequest(request)
        var body: [UInt8]
        if read.operation == CanaryRequest.registerOperation {
            body = [UInt8](repeating: 0, count: 64)
            put(batchSizeLimit, at: 0, in: &body)
        } else {
            body = [UInt8](repeating: 7, count: 128 * found) + [UInt8](repeating: 0xff, count: 124)
            body += [UInt8(found), 0, 1, 0]
        }
        var bytes = base(cluster: cluster, replica: primary, view: view, release: read.release, command: 8) + body
        put(UInt32(bytes.count), at: 96, in: &bytes)
        put(read.checksum, at: 128, in: &bytes)
        put(context, at: 160, in: &bytes)
        put(read.client, at: 192, in: &bytes)
        put(commit, at: 208, in: &bytes)
        put(commit, at: 216, in: &bytes)
        put(UInt64(1_800_000_000_000_000_000) + commit, at: 224, in: &bytes)
        put(read.request, at: 232, in: &bytes)
        bytes[236] = read.operation
        bytes.replaceSubrange(32..<48, with: AEGIS128L.checksum(bytes[256...]))
        return sealed(bytes)
    }

    /// What a canary request says, read back (the fake replica's side).
    public struct Request: Sendable, Equatable {
        public var checksum: UInt128
        public var cluster: UInt128
        public var command: UInt8
        public var operation: UInt8
        public var release: Release
        public var view: UInt32
        public var parent: UInt128
        public var client: UInt128
        public var session: UInt64
        public var request: UInt32
        public var size: Int
        public var checksumsValid: Bool
    }

    public static func readRequest(_ bytes: [UInt8]) -> Request {
        let size = Int(get(UInt32.self, at: 96, bytes))
        return Request(
            checksum: get(UInt128.self, at: 0, bytes), cluster: get(UInt128.self, at: 80, bytes), command: bytes[114],
            operation: bytes[196],
            release: Release(packed: get(UInt32.self, at: 108, bytes)), view: get(UInt32.self, at: 104, bytes),
            parent: get(UInt128.self, at: 128, bytes), client: get(UInt128.self, at: 160, bytes), session: get(UInt64.self, at: 176, bytes),
            request: get(UInt32.self, at: 192, bytes), size: size,
            checksumsValid: bytes.count == size && Array(bytes[0..<16]) == AEGIS128L.checksum(bytes[16..<256])
                && Array(bytes[32..<48]) == AEGIS128L.checksum(bytes[256...]))
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

    public static func get<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int, _ bytes: [UInt8]) -> T {
        var value: T = 0
        for i in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
