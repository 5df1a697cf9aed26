import Alerting
import Foundation
import Testing
import TigerBeetle

@testable import Agent

/// A channel's queue and retries on virtual time: what goes out when, and what each answer does.
@Suite struct DeliveryQueueTests {
    static let delivery = NotificationChannel.Delivery(url: URL(string: "http://pager.test/")!, headers: [:], timeout: .seconds(1))

    /// A generator that always says the same, so the jitter is known (the pause is then the backoff itself).
    struct Fixed: RandomNumberGenerator, Sendable {
        func next() -> UInt64 { .max }
    }

    static func queue(capacity: Int = 8) -> DeliveryQueue {
        DeliveryQueue(name: "t", delivery: delivery, capacity: capacity, random: Fixed())
    }

    static func entry(_ id: UInt64, _ key: String) -> NotificationChannel.Entry {
        .init(id: id, key: key, body: Data(key.utf8), isRepeat: false)
    }

    static func at(_ milliseconds: Int64) -> MonotonicInstant { MonotonicInstant(nanoseconds: milliseconds * 1_000_000) }
    static let unavailable = HTTPClient.Response(status: 503, body: Data(), error: nil)
    static let ok = HTTPClient.Response(status: 200, body: Data(), error: nil)

    /// Failed attempts are retried after 0.5 s, 1 s, 2 s (doubling; the jitter at its top here), and a 2xx delivers.
    @Test func aFailedAttemptIsRetriedWithBackoffUntilDelivered() {
        var queue = Self.queue()
        queue.enqueue(Self.entry(1, "g"))
        #expect(queue.next(now: Self.at(0)) == .send(Self.entry(1, "g"), attempt: 1))
        #expect(queue.answered(Self.unavailable, now: Self.at(10)) == .retrying(reason: "HTTP 503", attempt: 1, pause: .milliseconds(500)))
        #expect(queue.next(now: Self.at(100)) == .wait(until: Self.at(510)))
        #expect(queue.next(now: Self.at(510)) == .send(Self.entry(1, "g"), attempt: 2))
        #expect(queue.answered(Self.unavailable, now: Self.at(520)) == .retrying(reason: "HTTP 503", attempt: 2, pause: .seconds(1)))
        #expect(queue.next(now: Self.at(1_520)) == .send(Self.entry(1, "g"), attempt: 3))
        #expect(queue.answered(Self.ok, now: Self.at(1_530)) == .delivered)
        #expect(queue.next(now: Self.at(1_530)) == .idle)
        #expect(queue.takeOutcomes().map(\.1) == [.started, .delivered])
        #expect(queue.stats.outcomes == [.success: 1])
    }

    /// A 4xx is the receiver's refusal: not retried. Five failures in a row give up: the planner sends the group again.
    @Test func aRefusalIsFinalAndRetriesEnd() {
        var queue = Self.queue()
        queue.enqueue(Self.entry(1, "a"))
        queue.enqueue(Self.entry(2, "b"))
        _ = queue.next(now: Self.at(0))
        #expect(queue.answered(HTTPClient.Response(status: 400, body: Data(), error: nil), now: Self.at(1)) == .refused(status: 400))
        var now: Int64 = 1
        var last: DeliveryQueue.Answered?
        for attempt in 1...5 {
            guard case .send(let entry, let n) = queue.next(now: Self.at(now)) else {
                Issue.record("no attempt \(attempt)")
                return
            }
            #expect(entry.id == 2 && n == attempt)
            last = queue.answered(HTTPClient.Response(status: nil, body: Data(), error: "Connection refused"), now: Self.at(now))
            now += 20_000
        }
        #expect(last == .failed(reason: "Connection refused", attempts: 5))
        #expect(queue.takeOutcomes().map(\.1) == [.started, .rejected, .started, .failed])
        #expect(queue.stats.outcomes == [.rejected: 1, .failed: 1])
        #expect(queue.isEmpty)
    }

    /// Past a shutdown's deadline nothing more is tried: a retry's pause ends there and fails; what is queued is dropped.
    @Test func nothingIsTriedPastTheDrainDeadline() {
        var queue = Self.queue()
        queue.enqueue(Self.entry(1, "a"))
        queue.enqueue(Self.entry(2, "b"))
        _ = queue.next(now: Self.at(0))
        _ = queue.answered(Self.unavailable, now: Self.at(0))
        queue.drain(until: Self.at(300))
        #expect(queue.next(now: Self.at(100)) == .wait(until: Self.at(300)))
        #expect(queue.next(now: Self.at(300)) == .idle)
        #expect(queue.takeOutcomes().map(\.1) == [.started, .failed, .started, .failed])
        #expect(queue.stats.outcomes == [.failed: 1, .dropped: 1])
    }

    /// An answer for an attempt the shutdown already dropped changes nothing.
    @Test func anAnswerAfterTheDropIsAbandoned() {
        var queue = Self.queue()
        queue.enqueue(Self.entry(1, "a"))
        _ = queue.next(now: Self.at(0))
        #expect(queue.dropAll() == 1)
        #expect(queue.answered(Self.ok, now: Self.at(5)) == .abandoned)
        #expect(queue.stats.outcomes == [.dropped: 1])
    }

    /// The jitter comes from the generator given: a seeded one gives the same pauses every time.
    @Test func theJitterIsTheGeneratorsOwn() {
        func pauses() -> [Duration] {
            var queue = DeliveryQueue(name: "t", delivery: Self.delivery, capacity: 1, random: Stepping(state: 7))
            queue.enqueue(Self.entry(1, "a"))
            var pauses: [Duration] = []
            var now: Int64 = 0
            while case .send = queue.next(now: Self.at(now)),
                case .retrying(_, _, let pause) = queue.answered(Self.unavailable, now: Self.at(now))
            {
                pauses.append(pause)
                now += pause.nanoseconds / 1_000_000 + 1
            }
            return pauses
        }
        let first = pauses()
        #expect(first.count == 4)
        #expect(first == pauses())
        #expect(zip(first, [0.5, 1, 2, 4]).allSatisfy { $0.seconds >= $1 / 2 && $0.seconds <= $1 })
    }

    /// A generator that says something different each time, the same sequence from the same start.
    struct Stepping: RandomNumberGenerator, Sendable {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            return state
        }
    }
}
