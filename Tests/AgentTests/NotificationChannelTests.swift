import Foundation
import Logging
import Testing
@testable import Agent

@Suite(.timeLimit(.minutes(1))) struct NotificationChannelTests {
    func channel(capacity: Int) -> NotificationChannel {
        NotificationChannel(name: "t", delivery: .init(url: URL(string: "http://127.0.0.1:9/")!, headers: [:], timeout: .seconds(1)),
                            capacity: capacity, logger: Logger(label: "test"))
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

    @Test func stoppingDropsWhatIsLeftAfterTheDeadline() {
        let c = channel(capacity: 8)
        c.start()
        for key in ["a", "b", "c"] { c.enqueue(entry(key)) }
        let started = Date()
        c.stop(drainUntil: SystemClock().monotonic() + .milliseconds(300))
        #expect(Date().timeIntervalSince(started) < 2)
        let stats = c.stats
        #expect(stats.queueLength == 0)
        #expect((stats.outcomes[.dropped] ?? 0) + (stats.outcomes[.failed] ?? 0) == 3)
    }
}
