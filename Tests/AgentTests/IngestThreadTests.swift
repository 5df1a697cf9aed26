import AgentTestSupport
import Foundation
import MetricStore
import Synchronization
import Testing

@testable import Agent

/// The ingest thread on virtual time: what the reader hands over is applied at once (the alert loop told when a
/// replica's signals changed), and series expire on the clock's once-a-second tick.
@Suite(.timeLimit(.minutes(1))) struct IngestThreadTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    func hand(_ text: String, to queue: IngestQueue) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { queue.append($0.baseAddress!, bytes.count) }
        queue.flush()
    }

    @Test func datagramsAreAppliedAtOnceAndSeriesExpireOnTheClock() {
        let clock = VirtualClock()
        let queue = IngestQueue(clock: clock)
        let store = SharedStore(options: MetricStore.Options(ttl: .seconds(5)))
        let changes = Counter()
        let ingest = IngestThread(queue: queue, store: store, clock: clock, onSignalsChanged: { changes.value.add(1, ordering: .relaxed) })
        ingest.start()
        defer { ingest.stop() }
        clock.settle(loops: 1)
        hand("app.requests:1|c", to: queue)
        clock.settle(loops: 1)
        #expect(store.snapshot().seriesCount == 1)
        #expect(changes.value.load(ordering: .relaxed) == 0)
        hand("tb.replica_status:0|g|#cluster:\(String(repeating: "0", count: 32)),replica:0", to: queue)
        clock.settle(loops: 1)
        #expect(store.snapshot().seriesCount == 2)
        #expect(changes.value.load(ordering: .relaxed) == 1)
        // Heard at 0 s, a 5 s TTL: kept through 5 s, gone at the tick after it (6 s).
        var kept: [Int] = []
        for second in 1...7 {
            clock.advance(by: .seconds(1), loops: 1)
            if store.snapshot().seriesCount == 2 { kept.append(second) }
        }
        #expect(kept == [1, 2, 3, 4, 5])
        #expect(store.snapshot().seriesCount == 0)
    }
}
