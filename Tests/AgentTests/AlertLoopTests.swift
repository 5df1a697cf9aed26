import AgentTestSupport
import Alerting
import Foundation
import Health
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Agent

private let s: Int64 = 1_000_000_000

/// What a stand-in receiver got: when (virtual seconds since the clock's zero) and what.
final class ReceivedLog: Sendable {
    struct Request: Sendable {
        var second: Double
        var body: Data
        var message: WebhookMessage? { try? JSONDecoder().decode(WebhookMessage.self, from: body) }
    }

    let requests = Mutex<[Request]>([])
    /// The statuses to answer with, in turn; 200 once they run out.
    let answers: Mutex<[Int]>

    init(answers: [Int] = []) {
        self.answers = Mutex(answers)
    }

    /// A sender that records each request at the clock's time and answers with the next status.
    func sender(_ clock: VirtualClock) -> NotificationChannel.Sender {
        { body, _ in
            self.requests.withLock { $0.append(Request(second: Double(clock.monotonic().nanoseconds) / 1e9, body: body)) }
            let status = self.answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            return HTTPClient.Response(status: status, body: Data(), error: nil)
        }
    }

    var all: [Request] { requests.withLock { $0 } }
}

/// The alert loop and its channels on virtual time: the recorded capture's health timeline evaluated by the real loop,
/// delivered through the real channels to a stand-in sender. Exact seconds; no wall-clock wait.
@Suite(.timeLimit(.minutes(1))) struct AlertLoopTests {
    static let receiver = WebhookReceiverConfig(name: "pager", url: "http://pager.test/hook")

    /// The pager alone; alerts held one probe interval of `minimumFor`.
    static func settings(minimumFor: Int64) -> AlertLoop.Settings {
        AlertLoop.Settings(
            rules: AlertRules(), runbookURL: AlertEngine.defaultRunbookURL, receivers: [Self.receiver],
            alertmanagerURLs: [], externalURL: "http://beetlewatch.test:9917", resendDelay: 60 * s,
            alertsOnUnwatchedClusters: false, minimumFor: minimumFor)
    }

    func loop(_ clock: VirtualClock, _ log: ReceivedLog, timeline: CaptureTimeline) -> AlertLoop {
        let settings = Self.settings(minimumFor: s)
        let reports = timeline.reports
        let last = reports.keys.max()!
        return AlertLoop(
            settings: settings,
            health: { now in
                reports[min(last, Int((now - CaptureTimeline.epoch) / s))]!
            }, clock: clock, wakeup: clock.makeWakeup(), send: log.sender(clock), logger: Logger(label: "test"))
    }

    /// The capture's quorum loss (the condition holds from 168 s to 214 s, `AlertTimelineTests`): with the agent's
    /// one-probe-interval hold the loop fires at 169 s, resolves at 214 s, and the channel posts each message that second.
    @Test func theCapturesQuorumLossReachesTheReceiverTheSecondItFiresAndResolves() throws {
        let timeline = try CaptureTimeline()
        let clock = VirtualClock(unixStart: CaptureTimeline.epoch)
        let log = ReceivedLog()
        let loop = loop(clock, log, timeline: timeline)
        loop.start()
        for _ in 1...230 { clock.advance(by: .seconds(1), loops: 2) }
        loop.stop(drainUntil: clock.monotonic())
        let quorum = log.all.filter { $0.message?.groupLabels["alertname"] == AlertName.quorumLost.rawValue }
        #expect(quorum.map(\.second) == [169, 214])
        #expect(quorum.map { $0.message?.status } == ["firing", "resolved"])
        #expect(loop.active.isEmpty || loop.active.allSatisfy { $0.name != .quorumLost })
    }

    final class CurrentReport: Sendable {
        let report: Mutex<HealthReport>
        init(_ report: HealthReport) { self.report = Mutex(report) }
    }

    /// An alert fires when its hold runs out and a kept one resolves when its keep does, not on the loop's next
    /// once-a-second tick (which made QuorumLost up to a second late). The capture's quorum loss from 0.3 s, probing
    /// every 200 ms: fired at 0.5 s. Quorum back at 2.0 s, the loop woken at 2.3 s for nothing: resolved after the 10 s
    /// keep, at 12.0 s. (On its ticks alone: 1.3 s and 12.3 s.)
    @Test func anAlertFiresAndResolvesWhenItsHoldRunsOutNotOnTheNextTick() throws {
        let timeline = try CaptureTimeline()
        let healthy = try #require(timeline.reports[167])
        let current = CurrentReport(healthy)
        let clock = VirtualClock(unixStart: CaptureTimeline.epoch)
        let log = ReceivedLog()
        let wakeup = clock.makeWakeup()
        let loop = AlertLoop(
            settings: Self.settings(minimumFor: s / 5), health: { _ in current.report.withLock { $0 } }, clock: clock, wakeup: wakeup,
            send: log.sender(clock), logger: Logger(label: "test"))
        loop.start()
        let changes = [3: timeline.reports[168], 20: healthy, 23: nil]
        for tenth in 0..<140 {
            if let change = changes[tenth] {
                if let report = change { current.report.withLock { $0 = report } }
                wakeup.signal()
            }
            clock.advance(by: .milliseconds(100), loops: 2)
        }
        loop.stop(drainUntil: clock.monotonic())
        let quorum = log.all.filter { $0.message?.groupLabels["alertname"] == AlertName.quorumLost.rawValue }
        #expect(quorum.map { ($0.second * 10).rounded() / 10 } == [0.5, 12.0])
        #expect(quorum.map { $0.message?.status } == ["firing", "resolved"])
    }

    /// A receiver answering 500 twice: the retries come after the backoff (0.25–0.5 s, then 0.5–1 s) on the clock,
    /// and the third attempt delivers.
    @Test func aFailedPostIsRetriedAfterItsBackoff() {
        let clock = VirtualClock()
        let log = ReceivedLog(answers: [500, 500])
        let channel = NotificationChannel(
            name: "t", delivery: .init(url: URL(string: "http://pager.test/")!, headers: [:], timeout: .seconds(1)),
            clock: clock, send: log.sender(clock), logger: Logger(label: "test"))
        channel.start()
        channel.enqueue(.init(id: 1, key: "g", body: Data("{}".utf8), isRepeat: false))
        for _ in 0..<20 { clock.advance(by: .milliseconds(100), loops: 1) }
        channel.stop(drainUntil: clock.monotonic())
        let times = log.all.map(\.second)
        #expect(times.count == 3)
        guard times.count == 3 else { return }
        #expect(times[0] == 0)
        #expect((0.25...0.6).contains(times[1] - times[0]), "\(times)")
        #expect((0.5...1.1).contains(times[2] - times[1]), "\(times)")
        #expect(channel.stats.outcomes[.success] == 1)
        #expect(channel.takeOutcomes().map(\.1) == [.started, .delivered])
    }

    /// A receiver that always fails, at shutdown: retries go on until the deadline (3 s on the clock), then the
    /// notification is given up and counted; stopping waits for the clock, not for wall time.
    @Test func aShutdownGivesUpAtItsDeadline() {
        let clock = VirtualClock()
        let log = ReceivedLog(answers: Array(repeating: 503, count: 100))
        var delivery = NotificationChannel.Delivery(url: URL(string: "http://pager.test/")!, headers: [:], timeout: .seconds(1))
        delivery.maxAttempts = 100
        let channel = NotificationChannel(
            name: "t", delivery: delivery, clock: clock, send: log.sender(clock), logger: Logger(label: "test"))
        channel.start()
        channel.enqueue(.init(id: 1, key: "g", body: Data("{}".utf8), isRepeat: false))
        clock.settle(loops: 1)
        // The deadline is in place before the clock moves; stopping then waits for the clock, not for wall time.
        let deadline = MonotonicInstant(nanoseconds: 3 * s)
        channel.requestStop(drainUntil: deadline)
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            channel.finishStop(drainUntil: deadline)
            stopped.signal()
        }.start()
        // Retrying until 2.9 s, then the last step to the deadline, after which the loop leaves and stop returns.
        for _ in 0..<29 { clock.advance(by: .milliseconds(100), loops: 1) }
        clock.advance(by: .milliseconds(100), loops: 0)
        #expect(stopped.wait(timeout: .now() + .seconds(10)) == .success)
        // Attempts at 0, then after pauses of 0.25–0.5, 0.5–1, 1–2 s (jitter); none at or after the 3 s deadline.
        let times = log.all.map(\.second)
        #expect((3...5).contains(times.count), "\(times)")
        #expect(times.allSatisfy { $0 < 3 }, "\(times)")
        #expect(channel.stats.outcomes[.failed] == 1)
        #expect(channel.stats.queueLength == 0)
    }
}
