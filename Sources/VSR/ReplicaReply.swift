/// What a replica answered a ping with: a pong (its loop runs), an eviction (it refuses our release), or
/// why 256 received bytes are neither. Every field is checked before it is believed.
public enum ReplicaReply: Sendable, Equatable {
    /// `pong_client`: the replica's index, its durable log view, its release, and our timestamp echoed.
    case pong(replica: UInt8, view: UInt32, release: Release, timestamp: UInt64)
    /// `eviction`: the primary refuses our session; a release out of the replica's range is the usual reason.
    case eviction(replica: UInt8, reason: EvictionReason)

    public static let pongCommand: UInt8 = 4
    public static let evictionCommand: UInt8 = 18

    /// Reads one 256-byte header from a replica of `cluster`.
    public static func decode(_ bytes: [UInt8], cluster: UInt128) -> Result<ReplicaReply, ReplyError> {
        guard bytes.count == PingClient.headerSize else { return .failure(.wrongLength(bytes.count)) }
        guard Array(bytes[0..<16]) == AEGIS128L.checksum(bytes[HeaderLayout.checksumPadding..<PingClient.headerSize]) else {
            return .failure(.badChecksum)
        }
        guard HeaderLayout.get(UInt32.self, at: HeaderLayout.size, in: bytes) == UInt32(PingClient.headerSize),
            Array(bytes[HeaderLayout.checksumBody..<(HeaderLayout.checksumBody + 16)]) == PingClient.emptyBodyChecksum
        else { return .failure(.hasBody) }
        guard HeaderLayout.get(UInt128.self, at: HeaderLayout.cluster, in: bytes) == cluster else { return .failure(.otherCluster) }
        let replica = bytes[HeaderLayout.replica]
        switch bytes[HeaderLayout.command] {
        case pongCommand:
            return .success(
                .pong(
                    replica: replica, view: HeaderLayout.get(UInt32.self, at: HeaderLayout.view, in: bytes),
                    release: Release(packed: HeaderLayout.get(UInt32.self, at: HeaderLayout.release, in: bytes)),
                    timestamp: HeaderLayout.get(UInt64.self, at: HeaderLayout.pongTimestamp, in: bytes)))
        case evictionCommand:
            return .success(.eviction(replica: replica, reason: EvictionReason(code: bytes[HeaderLayout.evictionReason])))
        case let other:
            return .failure(.unexpectedCommand(other))
        }
    }
}

/// Why a replica evicted us (TigerBeetle's `Header.Eviction.Reason`).
public enum EvictionReason: Sendable, Equatable {
    /// The session is not in the cluster's client table: newer clients took its place (64 sessions at most), or it
    /// never registered.
    case noSession
    case clientReleaseTooLow
    case clientReleaseTooHigh
    /// The request's body was not what its operation takes.
    case invalidRequestBody
    case other(UInt8)

    init(code: UInt8) {
        switch code {
        case 1: self = .noSession
        case 2: self = .clientReleaseTooLow
        case 3: self = .clientReleaseTooHigh
        case 5: self = .invalidRequestBody
        default: self = .other(code)
        }
    }
}

extension EvictionReason: CustomStringConvertible {
    /// Why, as a sentence's end: "evicted: <description>".
    public var description: String {
        switch self {
        case .noSession: "its session is gone (newer clients took the cluster's sessions)"
        case .clientReleaseTooLow: "that release is too low for it"
        case .clientReleaseTooHigh: "that release is too high for it"
        case .invalidRequestBody: "the request's body was invalid"
        case .other(let code): "reason \(code)"
        }
    }
}

/// Why received bytes are not a reply beetlewatch can use.
public enum ReplyError: Error, Sendable, Equatable {
    case wrongLength(Int)
    case badChecksum
    /// A size other than 256, or a body checksum other than the empty body's: not a ping's answer.
    case hasBody
    case otherCluster
    case unexpectedCommand(UInt8)
}
