import TestSupport
import Foundation
import Glibc
import MetricStore
import Testing
@testable import Agent

@Suite(.serialized, .timeLimit(.minutes(1))) struct TCPProbeTests {
    @Test func anAcceptingPortSucceedsQuickly() throws {
        let listener = LoopbackListener()
        defer { listener.close() }
        let result = try #require(TCPProbe.run(address: listener.address, timeout: .seconds(1)))
        #expect(result.success)
        #expect(result.error == nil)
        #expect(result.durationSeconds < 0.5)
    }

    @Test func aClosedPortFailsAtOnce() throws {
        let result = try #require(TCPProbe.run(address: "127.0.0.1:\(LoopbackListener.closedPort())", timeout: .seconds(1)))
        #expect(!result.success)
        #expect(result.error == "Connection refused")
        #expect(result.durationSeconds < 0.5)
    }

    @Test func aPortThatNeverAnswersTimesOutAtTheTimeout() throws {
        let (listener, fillers) = LoopbackListener.neverAnswering()
        defer {
            fillers.forEach { close($0) }
            listener.close()
        }
        let result = try #require(TCPProbe.run(address: listener.address, timeout: .milliseconds(500)))
        #expect(!result.success)
        #expect(result.error?.hasPrefix("timed out") == true, "\(result.error ?? "")")
        #expect(result.durationSeconds >= 0.45)
        #expect(result.durationSeconds < 1.0)
    }

    @Test func anUnresolvableNameFails() throws {
        let result = try #require(TCPProbe.run(address: "no-such-host.invalid:3000", timeout: .milliseconds(500)))
        #expect(!result.success)
        #expect(result.error == "cannot resolve no-such-host.invalid")
    }

    /// Probes run side by side: a hung replica does not delay the others' results.
    @Test func aHungReplicaDoesNotDelayTheOthers() async throws {
        let (hung, fillers) = LoopbackListener.neverAnswering()
        let up = LoopbackListener()
        defer {
            fillers.forEach { close($0) }
            hung.close()
            up.close()
        }
        let cluster = String(repeating: "0", count: 32)
        let prober = ReplicaProber(clusters: [.init(id: cluster, name: "0", addresses: [hung.address, up.address])],
                                   interval: .seconds(10), timeout: .seconds(5))
        let started = Date()
        prober.start()
        defer { prober.stop() }
        let upKey = ReplicaKey(cluster: cluster, replica: 1)
        while prober.snapshot()[upKey] == nil && Date().timeIntervalSince(started) < 4 {
            try await Task.sleep(for: .milliseconds(10))
        }
        // The reachable replica's result is in while the hung connect (5 s timeout) is still pending.
        let results = prober.snapshot()
        #expect(results[upKey]?.success == true)
        #expect(results[ReplicaKey(cluster: cluster, replica: 0)] == nil)
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
