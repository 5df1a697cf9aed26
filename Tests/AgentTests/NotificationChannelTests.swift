import AgentTestSupport
import Foundation
import Logging
import Testing
import TigerBeetle

@testable import Agent

@Suite(.timeLimit(.minutes(1))) struct NotificationChannelTests {
    func channel(capacity: Int) -> NotificationChannel {
        NotificationChannel(
            name: "t", delivery: .init(url: URL(string: "http://127.0.0.1:9/")!, headers: [:], timeout: .seconds(1)),
            capacity: capacity, clock: SystemClock(), logger: Logger(label: "test"))
    }

    func entry(_ key: String, repeat isRepeat: Bool = false, _ body: String = "") -> NotificationChannel.Entry {
        .init(key: key, body: Data(body.utf8), isRepeat: isRepeat)
    }

    /// Not started, so nothing is delivered: the queue's own rules are visible.
    @Test func aFullQueueDropsARepeatFirstThenTheOldest() {
        let c = channel(capacity: 3)
        c.enqueue(entry("a"))
        c.enqueue(entry("b", repeat: true))
        c.enqueue(entry("c"))
        c.enqueue(entry("d"))  // full: the repeat (b) goes
        #expect(c.stats.queueLength == 3)
        #expect(c.stats.outcomes[.dropped] == 1)
        c.enqueue(entry("e"))  // full, no repeat left: the oldest (a) goes
        #expect(c.stats.outcomes[.dropped] == 2)
        #expect(c.stats.queueLength == 3)
    }

    @Test func aGroupsNewerStateReplacesItsQueuedOne() {
        let c = channel(capacity: 2)
        c.enqueue(entry("g", "firing"))
        c.enqueue(entry("g", "resolved"))
        #expect(c.stats.queueLength == 1)
        #expect(c.stats.outcomes[.dropped] == nil)
    }

    /// Three queued for a receiver that refuses connections, a 300 ms drain: whatever is not sent by then is counted
    /// dropped or failed, none is left, and stopping returns by the deadline on the clock.
    @Test func stoppingDropsWhatIsLeftAfterTheDeadline() {
        let clock = VirtualClock()
        let refused: NotificationChannel.Sender = { _, _ in HTTPClient.Response(status: nil, body: Data(), error: "Connection refused") }
        let c = NotificationChannel(
            name: "t", delivery: .init(url: URL(string: "http://127.0.0.1:9/")!, headers: [:], timeout: .seconds(1)),
            capacity: 8, clock: clock, send: refused, logger: Logger(label: "test"))
        c.start()
        for key in ["a", "b", "c"] { c.enqueue(entry(key)) }
        clock.settle(loops: 1)
        let deadline = clock.monotonic() + .milliseconds(300)
        c.requestStop(drainUntil: deadline)
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            c.finishStop(drainUntil: deadline)
            stopped.signal()
        }.start()
        // To the deadline and no further: the first retry pause (0.25 s at least) is cut short there.
        clock.advance(by: .milliseconds(300), loops: 0)
        #expect(stopped.wait(timeout: .now() + .seconds(10)) == .success)
        let stats = c.stats
        #expect(stats.queueLength == 0)
        #expect((stats.outcomes[.dropped] ?? 0) + (stats.outcomes[.failed] ?? 0) == 3)
    }
}
