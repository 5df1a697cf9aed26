import Testing

@testable import VSR

/// The canary's requests against the bytes TigerBeetle's official client sent a live 0.17.9 cluster, and its reply
/// decoder against what the cluster answered (`Tests/Fixtures/tigerbeetle-vsr-canary.txt`).
@Suite struct CanaryRequestTests {
    static let release = Release("0.17.9")!
    static let client = ClientID(0xd485_679d_b7e8_75ee_3f5a_cedf_5131_7bef)!
    static let evictedClient = ClientID(0xbaef_6f6e_0dec_ca06_5e6f_af0d_53c8_0e8b)!

    static func exchanges() throws -> [RecordedExchange] { try RecordedExchange.load("tigerbeetle-vsr-canary.txt") }

    /// The register, hedged to two replicas (the same bytes), rebuilt from its parameters byte for byte; the primary's
    /// reply gives session 2 and the next request's parent.
    @Test func registerIsTheOfficialClientsByteForByte() throws {
        let registers = try Self.exchanges().filter { $0.title.hasPrefix("request register") }
        #expect(registers.count == 2)
        let sent = CanaryRequest.register(cluster: 0, release: Self.release, client: Self.client, view: 0)
        for register in registers { #expect(sent == register.sent, "\(register.title)") }
        let answered = try #require(registers.first { !$0.reply.isEmpty })
        guard
            case .success(.registered(let reply, let session, let limit)) = CanaryReply.decode(
                answered.reply, cluster: 0, client: Self.client)
        else {
            Issue.record("\(CanaryReply.decode(answered.reply, cluster: 0, client: Self.client))")
            return
        }
        #expect(session.number == 2)
        #expect(limit == 32_512)
        #expect(reply.requestChecksum == CanaryRequest.checksum(of: sent))
        #expect(reply.context == 0x5576_55a4_0baa_24ba_d15b_1a91_5553_06ce)
        #expect(reply.view == 1 && reply.primary == 1 && reply.request == 0 && reply.commit == 2)
    }

    /// Each lookup, rebuilt from the session, the chain of contexts and the latency the client reported, byte for byte;
    /// each reply: the id not found, answering exactly that request.
    @Test func lookupsAreTheOfficialClientsByteForByte() throws {
        let lookups = try Self.exchanges().filter { $0.title.hasPrefix("request lookup_accounts") && $0.title.contains("session=2 ") }
        #expect(lookups.count == 4)
        let session = try #require(Session(2))
        // (request, parent = the previous reply's context, previous_request_latency µs as the client measured it)
        let chain: [(UInt32, UInt128, UInt32)] = [
            (1, 0x5576_55a4_0baa_24ba_d15b_1a91_5553_06ce, 600_284), (2, 0x8bb6_2d95_e473_79ed_d9f7_7b36_d64d_46ee, 1_212),
        ]
        var answered = 0
        for lookup in lookups {
            let (request, parent, latency) = try #require(chain.first { lookup.title.contains("request=\($0.0) ") })
            let sent = CanaryRequest.lookupAccounts(
                cluster: 0, release: Self.release, client: Self.client, view: 1, session: session, request: request, parent: parent,
                previousLatency: latency)
            #expect(sent == lookup.sent, "\(lookup.title)")
            guard !lookup.reply.isEmpty else { continue }
            answered += 1
            guard case .success(.lookedUp(let reply, let found)) = CanaryReply.decode(lookup.reply, cluster: 0, client: Self.client) else {
                Issue.record("\(lookup.title): \(CanaryReply.decode(lookup.reply, cluster: 0, client: Self.client))")
                continue
            }
            #expect(found == 0)
            #expect(reply.requestChecksum == CanaryRequest.checksum(of: sent))
            #expect(reply.request == request && reply.view == 1 && reply.primary == 1)
            #expect(request == 2 || reply.context == chain[1].1, "the reply to request 1 carries request 2's parent")
        }
        #expect(answered == 2)
    }

    /// An evicted session's next lookup: the primary's eviction, reason no_session.
    @Test func anEvictedSessionIsToldSo() throws {
        let evicted = try #require(try Self.exchanges().first { $0.title.contains("session=21 ") })
        // The latency the client reported with it, as recorded.
        let latency = HeaderLayout.get(UInt32.self, at: HeaderLayout.requestPreviousLatency, in: evicted.sent)
        let sent = CanaryRequest.lookupAccounts(
            cluster: 0, release: Self.release, client: Self.evictedClient, view: 1, session: Session(21)!, request: 2,
            parent: 0x9387_151d_1a7a_80a5_1175_c3f1_0769_2613, previousLatency: latency)
        #expect(sent == evicted.sent)
        #expect(CanaryReply.decode(evicted.reply, cluster: 0, client: Self.evictedClient) == .success(.evicted(.noSession)))
        #expect(CanaryReply.decode(evicted.reply, cluster: 0, client: Self.client) == .failure(.otherClient))
    }

    /// Whatever the parameters, the command is `request` and the operation register's or lookup_accounts', with a
    /// frame TigerBeetle accepts from a client (replica 0, epoch 0, timestamp 0, reserved bytes 0) and both checksums.
    @Test func noOtherCommandOrOperationCanBeProduced() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let cluster = UInt128(generator.next() as UInt64) << 64 | UInt128(generator.next() as UInt64)
            let release = Release(packed: generator.next() as UInt32)
            let client = ClientID.random(using: &generator)
            let view = generator.next() as UInt32
            let register = CanaryRequest.register(cluster: cluster, release: release, client: client, view: view)
            let lookup = CanaryRequest.lookupAccounts(
                cluster: cluster, release: release, client: client, view: view, session: Session(generator.next() | 1)!,
                request: UInt32.random(in: 1...UInt32.max, using: &generator), parent: UInt128(generator.next() as UInt64),
                previousLatency: generator.next())
            for (bytes, operation, size) in [(register, UInt8(2), 512), (lookup, UInt8(140), 288)] {
                #expect(bytes.count == size)
                #expect(bytes[114] == 5 && bytes[196] == operation)
                #expect(bytes[96..<100] == [UInt8(size & 0xff), UInt8(size >> 8), 0, 0][...])
                #expect(bytes[100..<104].allSatisfy { $0 == 0 } && bytes[112..<114].allSatisfy { $0 == 0 } && bytes[115] == 0)
                #expect(bytes[116..<128].allSatisfy { $0 == 0 } && bytes[184..<192].allSatisfy { $0 == 0 })
                #expect(bytes[197..<200].allSatisfy { $0 == 0 } && bytes[204..<256].allSatisfy { $0 == 0 })
                #expect(AEGIS128L.checksum(bytes[256...]) == Array(bytes[32..<48]))
                #expect(AEGIS128L.checksum(bytes[16..<256]) == Array(bytes[0..<16]))
            }
            #expect(
                register[128..<160].allSatisfy { $0 == 0 } && register[176..<196].allSatisfy { $0 == 0 }
                    && register[256...].allSatisfy { $0 == 0 })
        }
        #expect(CanaryRequest.command == 5)
        #expect(Session(0) == nil)
    }

    /// A reply that is not the canary's to believe is refused with its reason.
    @Test func repliesThatCannotBeBelievedAreRefused() throws {
        let reply = try #require(try Self.exchanges().first { $0.title.contains("request=2 ") && !$0.reply.isEmpty }?.reply)
        #expect(reply.count == 384)
        var flipped = reply
        flipped[300] ^= 1
        #expect(CanaryReply.decode(flipped, cluster: 0, client: Self.client) == .failure(.badBodyChecksum))
        flipped = reply
        flipped[200] ^= 1
        #expect(CanaryReply.decode(flipped, cluster: 0, client: Self.client) == .failure(.badChecksum))
        #expect(CanaryReply.decode(reply, cluster: 1, client: Self.client) == .failure(.otherCluster))
        #expect(CanaryReply.decode(Array(reply[0..<300]), cluster: 0, client: Self.client) == .failure(.wrongLength(300)))
        #expect(CanaryReply.size(ofHeader: Array(reply[0..<256])) == .success(384))
        var huge = reply
        huge[97] = 0x10  // size 4096 + ...
        #expect(CanaryReply.size(ofHeader: huge) == .failure(.wrongLength(4096 + 128)))
        // A well-formed, checksummed pong is not a canary message.
        let pong = try #require(try RecordedExchange.load().first { !$0.reply.isEmpty && $0.reply[114] == 4 }?.reply)
        let cluster = HeaderLayout.get(UInt128.self, at: HeaderLayout.cluster, in: pong)
        #expect(CanaryReply.decode(pong, cluster: cluster, client: Self.client) == .failure(.unexpectedCommand(4)))
    }

    /// The trailer of a lookup reply: 0 or 1 accounts of 128 bytes, one batch; anything else is malformed.
    @Test func multiBatchTrailers() {
        let empty = [UInt8](repeating: 0xff, count: 124) + [0, 0, 1, 0]
        #expect(CanaryReply.accountsFound(inMultiBatch: empty) == 0)
        let one = [UInt8](repeating: 7, count: 128) + [UInt8](repeating: 0xff, count: 124) + [1, 0, 1, 0]
        #expect(CanaryReply.accountsFound(inMultiBatch: one) == 1)
        #expect(CanaryReply.accountsFound(inMultiBatch: [UInt8](repeating: 0xff, count: 124) + [0, 0, 2, 0]) == nil)
        #expect(CanaryReply.accountsFound(inMultiBatch: [UInt8](repeating: 0xff, count: 124) + [1, 0, 1, 0]) == nil)
        #expect(CanaryReply.accountsFound(inMultiBatch: []) == nil)
        #expect(CanaryReply.accountsFound(inMultiBatch: [UInt8](repeating: 0xff, count: 60) + [0, 0, 1, 0]) == nil)
    }
}
