import Alerting
import Config
import Foundation
import Logging
import Synchronization
import TigerBeetle

/// One destination for notifications (a webhook receiver or an Alertmanager): a bounded
/// queue and its own delivery thread, so a dead or slow destination delays nothing else.
final class NotificationChannel: Sendable {
    struct Entry: Equatable {
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

    /// POSTs with `HTTPClient`, its timeout on `clock`.
    static func httpSender(clock: any AgentClock) -> Sender {
        { body, delivery in
            HTTPClient.post(
                body, to: delivery.url, headers: delivery.headers, timeout: delivery.timeout.seconds, tls: delivery.tls, clock: clock)
        }
    }

    let name: String
    let capacity: Int
    /// How long an attempt waits for its answer.
    let timeout: Duration
    private let queue: Mutex<DeliveryQueue>
    private let clock: any AgentClock
    private let wakeup: any Wakeup
    private let send: Sender
    private let worker: WorkerThread
    private let logger: Logger

    /// - Parameter random: the retries' jitter (a seeded one in the simulator).
    init(
        name: String, delivery: Delivery, capacity: Int = 64, clock: any AgentClock, send: Sender? = nil,
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(), logger: Logger
    ) {
        self.name = name
        self.capacity = capacity
        self.timeout = delivery.timeout
        self.queue = Mutex(DeliveryQueue(name: name, delivery: delivery, capacity: capacity, random: random))
        self.clock = clock
        self.wakeup = clock.makeWakeup()
        self.send = send ?? Self.httpSender(clock: clock)
        self.worker = WorkerThread(name: "notify-\(name)", wakeup: wakeup)
        self.logger = logger
    }

    var stats: NotificationStats {
        queue.withLock { queue in
            var stats = queue.stats
            stats.queueLength = queue.queued
            return stats
        }
    }

    /// Queues a notification; never blocks. An entry replaced (same key) is reported superseded; one dropped
    /// from a full queue, failed (the planner sends its group again later).
    func enqueue(_ entry: Entry) {
        queue.withLock { $0.enqueue(entry) }
        wakeup.signal()
    }

    /// What became of queued entries since the last call, in order.
    func takeOutcomes() -> [(UInt64, NotificationPlanner.Outcome)] {
        queue.withLock { $0.takeOutcomes() }
    }

    /// Delivers on a thread of its own: blocking POSTs, the retries' pauses on the clock.
    func start() {
        worker.start { [self] in
            while true {
                switch nextStep() {
                case .send(let entry, _):
                    answer(send(entry.body, queue.withLock { $0.delivery }))
                case .wait(let until):
                    wakeup.wait(until: until)
                case .idle:
                    if !worker.isRunning { return }
                    wakeup.wait(until: .distantFuture)
                }
            }
        }
    }

    /// What to do now (a started channel's thread, or `SteppedAgent`'s caller, asks).
    func nextStep() -> DeliveryQueue.Step {
        queue.withLock { $0.next(now: clock.monotonic()) }
    }

    /// The answer to the attempt `nextStep` asked for, logged as it deserves.
    func answer(_ response: HTTPClient.Response) {
        let (answered, attempts) = queue.withLock { ($0.answered(response, now: clock.monotonic()), $0.delivery.maxAttempts) }
        switch answered {
        case .delivered, .abandoned:
            break
        case .refused(let status):
            logger.error("notification refused; not retrying", metadata: ["receiver": "\(name)", "status": "\(status)"])
        case .retrying(let reason, let attempt, let pause):
            logger.warning(
                "notification failed; retrying",
                metadata: [
                    "receiver": "\(name)", "attempt": "\(attempt)", "of": "\(attempts)", "error": "\(reason)",
                    "retry_in": "\(pause.seconds)",
                ])
        case .failed(let reason, let attempts):
            logger.error(
                "notification failed; its group is sent again later",
                metadata: ["receiver": "\(name)", "attempts": "\(attempts)", "error": "\(reason)"])
        }
    }

    /// Stops; what is queued gets until `deadline` to go out.
    func stop(drainUntil deadline: MonotonicInstant) {
        requestStop(drainUntil: deadline)
        finishStop(drainUntil: deadline)
    }

    /// The first half of `stop`: sets the deadline and wakes the delivery thread; returns at once.
    func requestStop(drainUntil deadline: MonotonicInstant) {
        queue.withLock { $0.drain(until: deadline) }
        worker.requestStop()
        wakeup.signal()
    }

    /// The second half of `stop`: waits for the delivery thread (a retry pause ends at the deadline; a request under
    /// way is not waited for beyond it), then counts what is left as dropped.
    func finishStop(drainUntil deadline: MonotonicInstant) {
        if !worker.join(waitingAtMost: deadline - clock.monotonic() + .milliseconds(100)) {
            logger.warning("a notification was still under way at the shutdown timeout", metadata: ["receiver": "\(name)"])
        }
        let left = queue.withLock { $0.dropAll() }
        if left > 0 {
            logger.warning("notifications not sent before the shutdown timeout", metadata: ["receiver": "\(name)", "count": "\(left)"])
        }
    }

}
