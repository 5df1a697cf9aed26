/// The one request beetlewatch sends a replica: a 256-byte `ping_client` header, no body. A replica's
/// event loop answers it with `pong_client`; a stopped replica completes the TCP connect and never answers.
///
/// **A correctly checksummed header with an unknown command makes a replica exit** (command 0 panics it).
/// So the command byte is not a parameter: this encoder can only ever produce `ping_client` (3). The
/// tests pin it to a golden header three live replicas answered.
public enum PingClient {
    /// `ping_client` in TigerBeetle's `Command` enum. The only command beetlewatch sends.
    public static let command: UInt8 = 3
    public static let headerSize = 256

    /// The header for `cluster` (the u128 id), claiming `release`, from `client`, carrying `timestamp` (echoed
    /// back in the pong: beetlewatch's monotonic clock, to match late pongs).
    public static func header(cluster: UInt128, release: Release, client: ClientID, timestamp: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerSize)
        HeaderLayout.put(Self.emptyBodyChecksum, at: HeaderLayout.checksumBody, in: &bytes)
        HeaderLayout.put(cluster, at: HeaderLayout.cluster, in: &bytes)
        HeaderLayout.put(UInt32(headerSize), at: HeaderLayout.size, in: &bytes)
        // epoch, view, protocol and replica stay 0, as a client's ping has them.
        HeaderLayout.put(release.packed, at: HeaderLayout.release, in: &bytes)
        bytes[HeaderLayout.command] = command
        HeaderLayout.put(client.value, at: HeaderLayout.pingClient, in: &bytes)
        HeaderLayout.put(timestamp, at: HeaderLayout.pingTimestamp, in: &bytes)
        // session stays 0; the reserved bytes stay 0.
        let checksum = AEGIS128L.checksum(bytes[HeaderLayout.checksumPadding..<headerSize])
        bytes.replaceSubrange(0..<16, with: checksum)
        return bytes
    }

    /// The checksum of an empty body, which every header without one carries as `checksum_body`.
    static let emptyBodyChecksum: [UInt8] = AEGIS128L.checksum([])
}

/// A client id for pings: TigerBeetle refuses 0. A new connection with an id already in use closes the older one.
public struct ClientID: Sendable, Hashable {
    public let value: UInt128

    public init?(_ value: UInt128) {
        guard value != 0 else { return nil }
        self.value = value
    }

    /// A random non-zero id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> ClientID {
        while true {
            let value = UInt128(generator.next() as UInt64) << 64 | UInt128(generator.next() as UInt64)
            if let id = ClientID(value) { return id }
        }
    }
}
