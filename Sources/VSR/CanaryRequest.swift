/// The canary's requests, the only ones beetlewatch sends besides `ping_client`: `register` (a client session) and
/// `lookup_accounts` of one fixed id that no application uses. TigerBeetle prepares every request through consensus,
/// reads included, so a reply to the lookup proves that a quorum committed it just now; nothing is written.
///
/// **A correctly checksummed header with an unknown command makes a replica exit, and a request operation of
/// `reserved` or `root` trips its assertions.** So neither the command nor the operation is a parameter: one function
/// a request, each with its operation fixed, the bytes pinned by the tests to what TigerBeetle's official client sent a
/// live 0.17.9 cluster (`Tests/Fixtures/tigerbeetle-vsr-canary.txt`).
public enum CanaryRequest {
    /// `request` in TigerBeetle's `Command` enum.
    public static let command: UInt8 = 5
    /// `register` (a VSR operation) and `lookup_accounts` (a state machine operation, 128 + 12, multi-batch).
    public static let registerOperation: UInt8 = 2
    public static let lookupAccountsOperation: UInt8 = 140
    /// The account looked up: "beetlewatch_cana" in ASCII. Not found is the expected answer; found changes nothing.
    public static let accountID: UInt128 = 0x6265_6574_6c65_7761_7463_685f_6361_6e61

    /// 256 bytes of header, then `RegisterRequest`: batch_size_limit 0 (the primary fills it in) and zeros.
    public static let registerSize = 512
    /// 256 bytes of header, the id, and the multi-batch trailer of one batch of one element.
    public static let lookupSize = 288

    /// `register`: a new session for `client`, sent knowing `view`.
    public static func register(cluster: UInt128, release: Release, client: ClientID, view: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: registerSize)
        // parent, session, request and timestamp stay 0, as a register has them.
        frame(&bytes, cluster: cluster, release: release, client: client, view: view, operation: registerOperation)
        seal(&bytes)
        return bytes
    }

    /// `lookup_accounts` of `accountID` in `session` (the register reply's commit), request number `request` (from 1),
    /// chained to the previous reply by `parent` (its context); `previousLatency`: the previous request's round trip, µs.
    public static func lookupAccounts(
        cluster: UInt128, release: Release, client: ClientID, view: UInt32, session: Session, request: UInt32, parent: UInt128,
        previousLatency: UInt32
    ) -> [UInt8] {
        precondition(request > 0, "request 0 is the register's")
        var bytes = [UInt8](repeating: 0, count: lookupSize)
        frame(&bytes, cluster: cluster, release: release, client: client, view: view, operation: lookupAccountsOperation)
        HeaderLayout.put(parent, at: HeaderLayout.requestParent, in: &bytes)
        HeaderLayout.put(session.number, at: HeaderLayout.requestSession, in: &bytes)
        HeaderLayout.put(request, at: HeaderLayout.requestNumber, in: &bytes)
        HeaderLayout.put(previousLatency, at: HeaderLayout.requestPreviousLatency, in: &bytes)
        // The body: the id, then the trailer, written from its end: batch_count 1, batch 0's element count 1, and the
        // unused u16 slots 0xffff, padded to the element size (16).
        HeaderLayout.put(accountID, at: PingClient.headerSize, in: &bytes)
        for i in (PingClient.headerSize + 16)..<(lookupSize - 4) { bytes[i] = 0xff }
        HeaderLayout.put(UInt16(1), at: lookupSize - 4, in: &bytes)
        HeaderLayout.put(UInt16(1), at: lookupSize - 2, in: &bytes)
        seal(&bytes)
        return bytes
    }

    /// The checksum a request is answered by (the reply's `request_checksum`).
    public static func checksum(of request: [UInt8]) -> UInt128 {
        HeaderLayout.get(UInt128.self, at: HeaderLayout.checksum, in: request)
    }

    private static func frame(
        _ bytes: inout [UInt8], cluster: UInt128, release: Release, client: ClientID, view: UInt32, operation: UInt8
    ) {
        HeaderLayout.put(cluster, at: HeaderLayout.cluster, in: &bytes)
        HeaderLayout.put(UInt32(bytes.count), at: HeaderLayout.size, in: &bytes)
        HeaderLayout.put(view, at: HeaderLayout.view, in: &bytes)
        HeaderLayout.put(release.packed, at: HeaderLayout.release, in: &bytes)
        bytes[HeaderLayout.command] = command
        HeaderLayout.put(client.value, at: HeaderLayout.requestClient, in: &bytes)
        bytes[HeaderLayout.requestOperation] = operation
    }

    /// checksum_body over the body, then checksum over the header after the checksum's own 16 bytes.
    private static func seal(_ bytes: inout [UInt8]) {
        HeaderLayout.put(AEGIS128L.checksum(bytes[PingClient.headerSize...]), at: HeaderLayout.checksumBody, in: &bytes)
        HeaderLayout.put(AEGIS128L.checksum(bytes[HeaderLayout.checksumPadding..<PingClient.headerSize]), at: 0, in: &bytes)
    }
}

/// A client session number: the commit of its register's reply. TigerBeetle refuses 0 in any request but register.
public struct Session: Sendable, Hashable {
    public let number: UInt64

    public init?(_ number: UInt64) {
        guard number != 0 else { return nil }
        self.number = number
    }
}
