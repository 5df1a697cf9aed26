import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing
import VSR

/// A rogue on a replica's port: it answers every connection with a flood of valid, checksummed pongs claiming view
/// 4294967295 (measured before: the honest replicas `behind`, NO QUORUM and a page within 8 s; and a stream of
/// unmatched pongs pinned the probe thread at 100% of a core).
final class RoguePongListener: @unchecked Sendable {
    let listener = LoopbackListener(accepting: false)
    private let running = Atomic<Bool>(true)
    let connections = Atomic<Int>(0)

    init(cluster: UInt128) {
        let fd = listener.fd
        Thread { [self] in
            while running.load(ordering: .relaxed) {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                connections.add(1, ordering: .relaxed)
                Thread { [self] in
                    var stamp: UInt64 = 0
                    while running.load(ordering: .relaxed) {
                        stamp &+= 1
                        let pong = ReplicaReplies.pong(
                            cluster: cluster, replica: 2, view: .max, release: Release("0.17.9")!, timestamp: stamp)
                        if pong.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) <= 0 { break }
                    }
                    close(client)
                }.start()
            }
        }.start()
    }

    var address: String { listener.address }

    func stop() {
        running.store(false, ordering: .relaxed)
        listener.close()
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct RogueListenerTests {
    /// The rogue on replica 2's port for 10 s, beside two honest replicas: they stay healthy (the cluster's view is what
    /// a majority corroborates), no QuorumLost, `/ready` open, the rogue's port `unreachable` as what it is, and the
    /// agent spends under 5% of a core on it (its connections closed after a few unmatched pongs, then backed off).
    @Test(.tags(.wallClock)) func aRogueOnAReplicasPortCannotOutvoteTheCluster() async throws {
        let honest = FakeReplica.cluster(2)
        let rogue = RoguePongListener(cluster: 0)
        defer {
            rogue.stop()
            honest.forEach { $0.close() }
        }
        let agent = try RunningBeetlewatch([
            "--tigerbeetle.cluster", "0", "--tigerbeetle.addresses", (honest.map(\.address) + [rogue.address]).joined(separator: ","),
            "--probe.interval", "200ms",
        ])
        try await agent.waitUntilServing()
        let cpuBefore = try HostileDatagramTests.cpuSeconds(agent.process.pid)
        let start = Date()
        var readyAll = true
        var quorumLost = false
        while Date().timeIntervalSince(start) < 10 {
            let reply = try await HTTPTestClient.request(agent.base + "/ready")
            if Date().timeIntervalSince(start) > 2 { readyAll = readyAll && reply.status == 200 }
            let alerts = try await HTTPTestClient.request(agent.base + "/api/v1/alerts").body
            quorumLost = quorumLost || alerts.contains("TigerBeetleQuorumLost")
            try await Task.sleep(for: .milliseconds(200))
        }
        let cpu = try HostileDatagramTests.cpuSeconds(agent.process.pid) - cpuBefore
        let elapsed = Date().timeIntervalSince(start)
        let status = try await HTTPTestClient.request(agent.base + "/api/v1/status").body
        #expect(readyAll, "/ready closed")
        #expect(!quorumLost)
        #expect(!status.contains("\"behind\""), "a replica judged behind")
        #expect(status.contains("pongs answering no ping"), "the rogue's port is judged for what it sends")
        #expect(cpu / elapsed < 0.05, "the agent used \(cpu) s of CPU in \(elapsed) s")
        #expect(rogue.connections.load(ordering: .relaxed) < 20, "reconnects backed off: \(rogue.connections.load(ordering: .relaxed))")
        print(
            "rogue pong flood: agent CPU \(String(format: "%.1f", 100 * cpu / elapsed))% of a core over \(String(format: "%.1f", elapsed)) s, \(rogue.connections.load(ordering: .relaxed)) connections"
        )
    }
}
