import Alerting
import Config
import Foundation
import Logging
import Synchronization

/// One destination for notifications (a webhook receiver or an Alertmanager): a bounded
/// queue and its own delivery thread, so a dead or slow destination delays nothing else.
final class NotificationChannel: Sendable {
    struct Entry {
        /// The planner's notification id: what becomes of the entry is reported under it.
        var id: UInt64 = 0
        /// Entries with the same key supersede each other (a group's newer state).
        var key: String
        var body: Data
        /// A re-send of an unchanged state: dropped first when the queue is full.
        var isRepeat: Bool
    }

    struct Delivery {
        var url: URL
        var headers: [String: String]
        var timeout: Duration
        var tls = ClientConnection.TLSOptions()
        var maxAttempts = 5
        var baseBackoff: Duration = .milliseconds(500)
        var maxBackoff: Duration = .seconds(30)
    }

    /// Sends one request and reports the answer: `HTTPClient.post` in the agent, a stand-in in the tests.
    typealias Sender = @Sendable (Data, Delivery) -> HTTPClient.Response

    static let httpSender: Sender = { body, delivery in
        HTTPClient.post(body, to: delivery.url, headers: delivery.headers, timeout: delivery.timeout.seconds, tls: delivery.tls)
    }

    private struct State {
        var queue: [Entry] = []
        var stats: NotificationStats
        var drainUntil: MonotonicInstant?
        /// What became of entries since the alert loop last asked (`takeOutcomes`).
        var outcomes: [(UInt64, NotificationPlanner.Outcome)] = []
    }

    let name: String
    let capacity: Int
    private let delivery: Delivery
    private let state: Mutex<State>
    private let clock: any AgentClock
    private let wakeup: any Wakeup
    private let send: Sender
    private let worker: WorkerThread
    private let logger: Logger

    init(
        name: String, delivery: Delivery, capacity: Int = 64, clock: any AgentClock = SystemClock(), send: @escaping Sender = httpSender,
        logger: Logger
    ) {
        self.name = name
        self.delivery = delivery
        self.capacity = capacity
        self.state = Mutex(State(stats: NotificationStats(receiver: name)))
        self.clock = clock
        self.wakeup = clock.makeWakeup()
        self.send = send
        self.worker = WorkerThread(name: "notify-\(name)", wakeup: wakeup)
        self.logger = logger
    }

    var stats: NotificationStats {
        state.withLock { state in
            var stats = state.stats
            stats.queueLength = state.queue.count
            return stats
        }
    }

    /// Queues a notification; never blocks. An entry replaced (same key) is reported superseded; one dropped
    /// from a full queue, failed (the planner sends its group again later).
    func enqueue(_ entry: Entry) {
        state.withLock { state in
            if let index = state.queue.firstIndex(where: { $0.key == entry.key }) {
                state.outcomes.append((state.queue[index].id, .superseded))
                state.queue[index] = entry
                return
            }
            if state.queue.count >= capacity {
                let victim = state.queue.firstIndex(where: \.isRepeat) ?? 0
                state.outcomes.append((state.queue[victim].id, .failed))
                state.queue.remove(at: victim)
                state.stats.outcomes[.dropped, default: 0] += 1
            }
            state.queue.append(entry)
        }
        wakeup.signal()
    }

    /// What became of queued entries since the last call, in order.
    func takeOutcomes() -> [(UInt64, NotificationPlanner.Outcome)] {
        state.withLock { state in
            defer { state.outcomes.removeAll() }
            return state.outcomes
        }
    }

    func start() {
        worker.start { [self] in
            while true {
                let next = state.withLock { state -> Entry? in
                    guard !state.queue.isEmpty else { return nil }
                    let next = state.queue.removeFirst()
                    state.outcomes.append((next.id, .started))
                    return next
                }
                if let next {
                    deliver(next)
                    continue
                }
                if !worker.isRunning { return }
                wakeup.wait(until: .distantFuture)
            }
        }
    }

    /// Stops; what is queued gets until `deadline` to go out.
    func stop(drainUntil deadline: MonotonicInstant) {
        requestStop(drainUntil: deadline)
        finishStop(drainUntil: deadline)
    }

    /// The first half of `stop`: sets the deadline and wakes the delivery thread; returns at once.
    func requestStop(drainUntil deadline: MonotonicInstant) {
        state.withLock { $0.drainUntil = deadline }
        worker.requestStop()
        wakeup.signal()
    }

    /// The second half of `stop`: waits for the delivery thread (a retry pause ends at the deadline; a request under
    /// way is not waited for beyond it), then counts what is left as dropped.
    func finishStop(drainUntil deadline: MonotonicInstant) {
        if !worker.join(waitingAtMost: deadline - clock.monotonic() + .milliseconds(100)) {
            logger.warning("a notification was still under way at the shutdown timeout", metadata: ["receiver": "\(name)"])
        }
        let left = state.withLock { state -> Int in
            let count = state.queue.count
            state.stats.outcomes[.dropped, default: 0] += UInt64(count)
            state.queue.removeAll()
            return count
        }
        if left > 0 {
            logger.warning("notifications not sent before the shutdown timeout", metadata: ["receiver": "\(name)", "count": "\(left)"])
        }
    }

    /// Past the shutdown deadline, give up on an entry.
    private var pastDeadline: Bool {
        guard let deadline = state.withLock({ $0.drainUntil }) else { return false }
        return clock.monotonic() >= deadline
    }

    private func deliver(_ entry: Entry) {
        if pastDeadline {
            record(.dropped, entry, .failed)
            return
        }
        var attempt = 0
        while true {
            attempt += 1
            let outcome = send(entry.body, delivery)
            switch outcome.status {
            case let status? where (200..<300).contains(status):
                record(.success, entry, .delivered)
                return
            case let status? where (400..<500).contains(status):
                logger.error("notification refused; not retrying", metadata: ["receiver": "\(name)", "status": "\(status)"])
                record(.rejected, entry, .rejected)
                return
            default:
                let reason = outcome.status.map { "HTTP \($0)" } ?? outcome.error ?? "unknown error"
                if attempt >= delivery.maxAttempts || pastDeadline {
                    logger.error(
                        "notification failed; its group is sent again later",
                        metadata: ["receiver": "\(name)", "attempts": "\(attempt)", "error": "\(reason)"])
                    record(.failed, entry, .failed)
                    return
                }
                let pause = Self.backoff(after: attempt, delivery)
                logger.warning(
                    "notification failed; retrying",
                    metadata: [
                        "receiver": "\(name)", "attempt": "\(attempt)", "error": "\(reason)", "retry_in": "\(pause.seconds)",
                    ])
                sleepUnlessDraining(pause)
                if pastDeadline {
                    logger.error(
                        "notification given up at the shutdown deadline", metadata: ["receiver": "\(name)", "attempts": "\(attempt)"])
                    record(.failed, entry, .failed)
                    return
                }
            }
        }
    }

    /// Exponential backoff with jitter: the pause after failed attempt `attempt` (1...) is in [backoff/2, backoff], backoff
    /// doubling from `baseBackoff` up to `maxBackoff`.
    static func backoff(after attempt: Int, _ delivery: Delivery) -> Duration {
        let doubled = delivery.baseBackoff * (1 << min(max(0, attempt - 1), 30))
        let backoff = min(delivery.maxBackoff, doubled)
        return backoff / 2 + .nanoseconds(Int64.random(in: 0...max(0, (backoff / 2).nanoseconds)))
    }

    /// Waits `pause` on the clock, or until the shutdown deadline if that comes first.
    private func sleepUnlessDraining(_ pause: Duration) {
        let until = clock.monotonic() + pause
        while true {
            let deadline = min(until, state.withLock { $0.drainUntil } ?? until)
            if clock.monotonic() >= deadline { return }
            wakeup.wait(until: deadline)
        }
    }

    private func record(_ outcome: NotificationStats.Outcome, _ entry: Entry, _ planned: NotificationPlanner.Outcome) {
        state.withLock { state in
            state.stats.outcomes[outcome, default: 0] += 1
            state.outcomes.append((entry.id, planned))
        }
    }
}
