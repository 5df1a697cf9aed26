import Alerting
import Foundation
import TigerBeetle

/// One destination's queue and retries as a state machine on the monotonic clock: what to send next and when, and what
/// an answer means. No thread, no socket, no clock read: `NotificationChannel` drives it on its delivery thread with
/// blocking POSTs, and `beetlewatch-sim` with simulated receivers on simulated time, so both run this code.
///
/// Entries with the same key supersede each other while queued; a full queue drops a repeat first, else the oldest
/// (the planner sends that group again later). An entry is tried up to `Delivery.maxAttempts` times with exponential
/// backoff and jitter; a 2xx delivers it, a 4xx refuses it (not retried), anything else is retried, then failed. Past
/// the shutdown deadline nothing more is tried.
struct DeliveryQueue {
    /// What the driver does next.
    enum Step: Equatable {
        /// POST `entry` (its `attempt`th try, from 1) and report the answer with `answered`.
        case send(NotificationChannel.Entry, attempt: Int)
        /// Nothing to do before this instant (a retry's pause), unless something is enqueued.
        case wait(until: MonotonicInstant)
        /// Nothing queued.
        case idle
    }

    /// What an answer did, for the driver's log.
    enum Answered: Equatable {
        case delivered
        /// A 4xx: not retried.
        case refused(status: Int)
        /// Tried again after `pause`.
        case retrying(reason: String, attempt: Int, pause: Duration)
        /// Given up after `attempts` (retries exhausted, or the shutdown deadline came): the planner sends its group again.
        case failed(reason: String, attempts: Int)
        /// The attempt's entry was dropped while it was under way (the shutdown's `dropAll`): nothing to record.
        case abandoned
    }

    let capacity: Int
    let delivery: NotificationChannel.Delivery
    private var queue: [NotificationChannel.Entry] = []
    /// The entry being tried: sent and not answered (`retryAt` nil), or waiting for its next attempt.
    private var current: (entry: NotificationChannel.Entry, attempt: Int, retryAt: MonotonicInstant?)?
    private(set) var stats: NotificationStats
    /// Past it (a shutdown's deadline), nothing more is tried.
    private(set) var drainUntil: MonotonicInstant?
    /// What became of entries since the last `takeOutcomes`.
    private var outcomes: [(UInt64, NotificationPlanner.Outcome)] = []
    /// The retries' jitter: the system's in the agent, a seeded one in the simulator.
    private var random: Jitter

    /// Any generator, as a concrete one (an existential cannot be passed where a generator is expected).
    struct Jitter: RandomNumberGenerator, Sendable {
        var source: any RandomNumberGenerator & Sendable
        mutating func next() -> UInt64 { source.next() }
    }

    init(name: String, delivery: NotificationChannel.Delivery, capacity: Int, random: any RandomNumberGenerator & Sendable) {
        precondition(capacity > 0, "a channel holds at least one notification")
        self.capacity = capacity
        self.delivery = delivery
        self.stats = NotificationStats(receiver: name)
        self.random = Jitter(source: random)
    }

    /// Entries queued, not counting the one being tried.
    var queued: Int { queue.count }

    /// Whether nothing is queued or being tried.
    var isEmpty: Bool { queue.isEmpty && current == nil }

    /// Queues a notification. One replaced (same key) is reported superseded; one dropped from a full queue, failed.
    mutating func enqueue(_ entry: NotificationChannel.Entry) {
        if let index = queue.firstIndex(where: { $0.key == entry.key }) {
            outcomes.append((queue[index].id, .superseded))
            queue[index] = entry
            return
        }
        if queue.count >= capacity {
            let victim = queue.firstIndex(where: \.isRepeat) ?? 0
            outcomes.append((queue[victim].id, .failed))
            queue.remove(at: victim)
            stats.outcomes[.dropped, default: 0] += 1
        }
        queue.append(entry)
        assert(queue.count <= capacity, "a channel's queue is bounded")
    }

    /// What became of entries since the last call, in order.
    mutating func takeOutcomes() -> [(UInt64, NotificationPlanner.Outcome)] {
        defer { outcomes.removeAll() }
        return outcomes
    }

    /// What to do at `now`.
    mutating func next(now: MonotonicInstant) -> Step {
        while true {
            if let (entry, attempt, retryAt) = current {
                guard let retryAt else { preconditionFailure("next while an attempt is under way") }
                if past(now) {
                    finish(entry, .failed, .failed)
                    continue
                }
                if now >= retryAt {
                    current = (entry, attempt + 1, nil)
                    return .send(entry, attempt: attempt + 1)
                }
                return .wait(until: min(retryAt, drainUntil ?? retryAt))
            }
            guard !queue.isEmpty else { return .idle }
            let entry = queue.removeFirst()
            outcomes.append((entry.id, .started))
            if past(now) {
                finish(entry, .dropped, .failed)
                continue
            }
            current = (entry, 1, nil)
            return .send(entry, attempt: 1)
        }
    }

    /// The answer to the attempt under way, at `now`.
    mutating func answered(_ response: HTTPClient.Response, now: MonotonicInstant) -> Answered {
        guard let (entry, attempt, retryAt) = current else { return .abandoned }
        precondition(retryAt == nil, "an answer while an entry waits for its retry")
        switch response.status {
        case let status? where (200..<300).contains(status):
            finish(entry, .success, .delivered)
            return .delivered
        case let status? where (400..<500).contains(status):
            finish(entry, .rejected, .rejected)
            return .refused(status: status)
        default:
            let reason = response.status.map { "HTTP \($0)" } ?? response.error ?? "unknown error"
            if attempt >= delivery.maxAttempts || past(now) {
                finish(entry, .failed, .failed)
                return .failed(reason: reason, attempts: attempt)
            }
            let pause = backoff(after: attempt)
            current = (entry, attempt, now + pause)
            return .retrying(reason: reason, attempt: attempt, pause: pause)
        }
    }

    /// Nothing is tried after `deadline`: what is queued then is dropped (a shutdown, or a channel a reload retired).
    mutating func drain(until deadline: MonotonicInstant) {
        drainUntil = deadline
    }

    /// Counts what is left as dropped (the shutdown deadline passed); how many.
    mutating func dropAll() -> Int {
        let left = queue.count + (current == nil ? 0 : 1)
        stats.outcomes[.dropped, default: 0] += UInt64(left)
        queue.removeAll()
        current = nil
        return left
    }

    private func past(_ now: MonotonicInstant) -> Bool {
        drainUntil.map { now >= $0 } ?? false
    }

    private mutating func finish(
        _ entry: NotificationChannel.Entry, _ outcome: NotificationStats.Outcome, _ planned: NotificationPlanner.Outcome
    ) {
        stats.outcomes[outcome, default: 0] += 1
        outcomes.append((entry.id, planned))
        current = nil
    }

    /// Exponential backoff with jitter: the pause after failed attempt `attempt` (1...) is in [backoff/2, backoff], backoff
    /// doubling from `baseBackoff` up to `maxBackoff`.
    private mutating func backoff(after attempt: Int) -> Duration {
        let doubled = delivery.baseBackoff * (1 << min(max(0, attempt - 1), 30))
        let backoff = min(delivery.maxBackoff, doubled)
        return backoff / 2 + .nanoseconds(Int64.random(in: 0...max(0, (backoff / 2).nanoseconds), using: &random))
    }
}
