import Testing

@testable import VSR

/// The encoder against the bytes live replicas answered, and the decoder against what they answered.
@Suite struct PingClientTests {
    static let recordedCluster: UInt128 = 0x1f2f_4f86_c85e_c9e2_9708_87f4_d0be_adef
    static let release = Release("0.17.9")!

    /// facts.md's golden header: cluster 0, release 0.17.9, client 1, timestamp 1e9 — all three replicas of a
    /// live cluster 0 answered it.
    @Test func theGoldenHeader() throws {
        let golden = try #require(try RecordedExchange.load().first { $0.title.hasPrefix("golden ping_client") })
        let header = PingClient.header(cluster: 0, release: Self.release, client: ClientID(1)!, timestamp: 1_000_000_000)
        #expect(golden.sent.count == 256)
        #expect(header == golden.sent)
        #expect(hex(Array(header[0..<16])) == "4bc276aaf33db9719df53950a9fd3fe9")
        #expect(UInt128(littleEndianBytes: Array(header[0..<16])) == 0xe93f_fda9_5039_f59d_71b9_3df3_aa76_c24b)
    }

    /// Every ping of the recording, rebuilt from its parameters, byte for byte.
    @Test func everyRecordedPing() throws {
        let pings = try RecordedExchange.load().filter { $0.title.hasPrefix("ping_client") && !$0.sent.isEmpty }
        #expect(pings.count == 1)
        for ping in pings {
            let header = PingClient.header(
                cluster: Self.recordedCluster, release: Self.release, client: ClientID(0x1f2f)!, timestamp: 1_000_000_000)
            #expect(header == ping.sent, "\(ping.title)")
        }
    }

    /// Whatever the parameters, the command byte is ping_client's and the frame is a client's ping.
    @Test func noOtherCommandCanBeProduced() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let cluster = UInt128(generator.next() as UInt64) << 64 | UInt128(generator.next() as UInt64)
            let release = Release(packed: generator.next() as UInt32)
            let header = PingClient.header(
                cluster: cluster, release: release, client: .random(using: &generator), timestamp: generator.next())
            #expect(header.count == 256)
            #expect(header[114] == 3)
            #expect(header[96..<104] == [0x00, 0x01, 0, 0, 0, 0, 0, 0], "size 256, epoch 0")
            #expect(header[104..<108] == [0, 0, 0, 0], "view 0")
            #expect(header[112..<114] == [0, 0] && header[115] == 0, "protocol 0, replica 0")
            #expect(header[152..<256].allSatisfy { $0 == 0 }, "session 0, reserved 0")
            #expect(AEGIS128L.checksum(header[16..<256]) == Array(header[0..<16]))
        }
        #expect(PingClient.command == 3)
        #expect(ClientID(0) == nil)
    }

    @Test func recordedRepliesDecode() throws {
        let exchanges = try RecordedExchange.load().filter { !$0.reply.isEmpty }
        var pongs: [UInt8] = []
        var evictions: [EvictionReason] = []
        for exchange in exchanges {
            switch ReplicaReply.decode(exchange.reply, cluster: Self.recordedCluster) {
            case .success(.pong(let replica, let view, let release, let timestamp)):
                #expect(view == 1 && release == Self.release && timestamp == 1_000_000_000, "\(exchange.title)")
                pongs.append(replica)
            case .success(.eviction(let replica, let reason)):
                #expect(replica == 1, "the primary evicts")
                evictions.append(reason)
            case .failure(let error):
                Issue.record("\(exchange.title): \(error)")
            }
        }
        #expect(pongs == [0, 1, 2])
        #expect(evictions == [.clientReleaseTooHigh, .clientReleaseTooLow])
    }

    @Test func repliesThatCannotBeBelievedAreRefused() throws {
        let pong = try #require(try RecordedExchange.load().first { !$0.reply.isEmpty }).reply
        #expect(ReplicaReply.decode(pong, cluster: 7) == .failure(.otherCluster))
        #expect(ReplicaReply.decode(Array(pong.prefix(255)), cluster: Self.recordedCluster) == .failure(.wrongLength(255)))
        for offset in [0, 15, 16, 80, 104, 114, 128, 255] {
            var tampered = pong
            tampered[offset] ^= 0x01
            #expect(ReplicaReply.decode(tampered, cluster: Self.recordedCluster) == .failure(.badChecksum), "byte \(offset)")
        }
        // A correctly checksummed header with another command is not taken for a pong.
        var other = pong
        other[114] = 25
        other.replaceSubrange(0..<16, with: AEGIS128L.checksum(other[16..<256]))
        #expect(ReplicaReply.decode(other, cluster: Self.recordedCluster) == .failure(.unexpectedCommand(25)))
    }

    @Test func releasesPackAsTigerBeetleDoes() {
        #expect(Self.release.packed == 4361)
        #expect(Release(packed: 0x1109) == Self.release)
        #expect(Release("0.16.4")! < Self.release)
        #expect(Release("0.17") == nil && Release("a.b.c") == nil && Release("0.256.0") == nil)
        #expect(Self.release.description == "0.17.9")
    }
}

extension UInt128 {
    init(littleEndianBytes bytes: [UInt8]) {
        self = bytes.enumerated().reduce(0) { $0 | UInt128($1.element) << (8 * $1.offset) }
    }
}
