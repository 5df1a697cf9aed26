/// What a replica sent the canary's client: a reply to one of its requests, or an eviction of its session. Every field
/// is checked before it is believed: both checksums, the size, the cluster, the client, and a body of the shape the
/// operation's reply has.
public enum CanaryReply: Sendable, Equatable {
    /// The reply to `register`: the new session, the cluster's batch size limit.
    case registered(Reply, session: Session, batchSizeLimit: UInt32)
    /// The reply to `lookup_accounts`: how many of the one id asked for were found (0 or 1).
    case lookedUp(Reply, accountsFound: Int)
    /// The session is gone (evicted by newer clients, a release out of range, an invalid request): the client must not
    /// use it again.
    case evicted(EvictionReason)

    /// What every reply carries.
    public struct Reply: Sendable, Equatable {
        /// The checksum of the request it answers.
        public var requestChecksum: UInt128
        /// The next request's `parent`.
        public var context: UInt128
        /// The view and primary of the prepare it answers (a backup's copy says the primary's index, not its own).
        public var view: UInt32
        public var primary: UInt8
        public var request: UInt32
        public var op: UInt64
        public var commit: UInt64
        /// The prepare's timestamp, ns of the cluster's clock.
        public var timestamp: UInt64
    }

    public static let replyCommand: UInt8 = 8

    /// Messages the canary's client accepts at most: a register reply is 320 bytes, a lookup reply 384 (one account
    /// found: 512). Anything longer is refused before its body is read.
    public static let maxSize = 1024

    /// The command byte of a message's header (at least 256 bytes).
    public static func command(of message: [UInt8]) -> UInt8 { message[HeaderLayout.command] }

    /// The message's size from its first 256 bytes (what to read in all), or why it cannot be one for the canary.
    public static func size(ofHeader header: [UInt8]) -> Result<Int, CanaryReplyError> {
        guard header.count >= PingClient.headerSize else { return .failure(.wrongLength(header.count)) }
        let size = Int(HeaderLayout.get(UInt32.self, at: HeaderLayout.size, in: header))
        guard (PingClient.headerSize...maxSize).contains(size) else { return .failure(.wrongLength(size)) }
        return .success(size)
    }

    /// Reads one whole message (header and body) sent to `client` of `cluster`.
    public static func decode(_ bytes: [UInt8], cluster: UInt128, client: ClientID) -> Result<CanaryReply, CanaryReplyError> {
        switch size(ofHeader: bytes) {
        case .failure(let error): return .failure(error)
        case .success(let size) where size != bytes.count: return .failure(.wrongLength(bytes.count))
        case .success: break
        }
        guard Array(bytes[0..<16]) == AEGIS128L.checksum(bytes[HeaderLayout.checksumPadding..<PingClient.headerSize]) else {
            return .failure(.badChecksum)
        }
        guard
            Array(bytes[HeaderLayout.checksumBody..<(HeaderLayout.checksumBody + 16)])
                == AEGIS128L.checksum(bytes[PingClient.headerSize...])
        else { return .failure(.badBodyChecksum) }
        guard HeaderLayout.get(UInt128.self, at: HeaderLayout.cluster, in: bytes) == cluster else { return .failure(.otherCluster) }
        switch bytes[HeaderLayout.command] {
        case ReplicaReply.evictionCommand:
            guard bytes.count == PingClient.headerSize else { return .failure(.malformedBody) }
            guard HeaderLayout.get(UInt128.self, at: HeaderLayout.evictionClient, in: bytes) == client.value else {
                return .failure(.otherClient)
            }
            return .success(.evicted(EvictionReason(code: bytes[HeaderLayout.evictionReason])))
        case replyCommand:
            guard HeaderLayout.get(UInt128.self, at: HeaderLayout.replyClient, in: bytes) == client.value else {
                return .failure(.otherClient)
            }
            let reply = Reply(
                requestChecksum: HeaderLayout.get(UInt128.self, at: HeaderLayout.replyRequestChecksum, in: bytes),
                context: HeaderLayout.get(UInt128.self, at: HeaderLayout.replyContext, in: bytes),
                view: HeaderLayout.get(UInt32.self, at: HeaderLayout.view, in: bytes), primary: bytes[HeaderLayout.replica],
                request: HeaderLayout.get(UInt32.self, at: HeaderLayout.replyRequest, in: bytes),
                op: HeaderLayout.get(UInt64.self, at: HeaderLayout.replyOp, in: bytes),
                commit: HeaderLayout.get(UInt64.self, at: HeaderLayout.replyCommit, in: bytes),
                timestamp: HeaderLayout.get(UInt64.self, at: HeaderLayout.replyTimestamp, in: bytes))
            let body = Array(bytes[PingClient.headerSize...])
            switch bytes[HeaderLayout.replyOperation] {
            case CanaryRequest.registerOperation:
                // RegisterResult: batch_size_limit u32, then zeros; the session is the reply's commit.
                guard body.count == 64, body[4...].allSatisfy({ $0 == 0 }), reply.request == 0, let session = Session(reply.commit) else {
                    return .failure(.malformedBody)
                }
                return .success(.registered(reply, session: session, batchSizeLimit: HeaderLayout.get(UInt32.self, at: 0, in: body)))
            case CanaryRequest.lookupAccountsOperation:
                guard reply.request > 0, let found = accountsFound(inMultiBatch: body) else { return .failure(.malformedBody) }
                return .success(.lookedUp(reply, accountsFound: found))
            case let other:
                return .failure(.unexpectedOperation(other))
            }
        case let other:
            return .failure(.unexpectedCommand(other))
        }
    }

    /// The number of 128-byte accounts in a one-batch multi-batch body: the accounts, then a trailer of u16s padded to
    /// 128 bytes, written from its end (batch_count, then batch 0's element count; 0xffff in the unused slots).
    static func accountsFound(inMultiBatch body: [UInt8]) -> Int? {
        let accountSize = 128
        guard body.count >= accountSize, body.count % accountSize == 0 else { return nil }
        let batches = HeaderLayout.get(UInt16.self, at: body.count - 2, in: body)
        let elements = Int(HeaderLayout.get(UInt16.self, at: body.count - 4, in: body))
        guard batches == 1, elements <= 1, body.count == elements * accountSize + accountSize,
            body[(elements * accountSize)..<(body.count - 4)].allSatisfy({ $0 == 0xff })
        else { return nil }
        return elements
    }
}

/// Why received bytes are not a message the canary's client can use.
public enum CanaryReplyError: Error, Sendable, Equatable {
    case wrongLength(Int)
    case badChecksum
    case badBodyChecksum
    case otherCluster
    /// A reply or eviction for another client: not ours to read.
    case otherClient
    case unexpectedCommand(UInt8)
    case unexpectedOperation(UInt8)
    /// A body not of the shape the operation's reply has.
    case malformedBody
}
