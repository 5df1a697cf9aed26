import AgentTestSupport
import Alerting
import Foundation
import Health
import Logging
import MetricStore
import Synchronization
import TestSupport
import Testing
import TigerBeetle

@testable import Agent

private let s = Duration.seconds(1)

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
    static func settings(minimumFor: Duration) -> AlertLoop.Settings {
        AlertLoop.Settings(
            rules: AlertRules(), runbookURL: AlertEngine.defaultRunbookURL, receivers: [Self.receiver],
            alertmanagerURLs: [], externalURL: "http://beetlewatch.test:9917", resendDelay: .seconds(60),
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
        let clock = VirtualClock(wallStart: CaptureTimeline.epoch)
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

    /// The capture's double failure (replicas 0 and 2 killed at 167 s; replica 1, left alone, reports no peers, and
    /// the killed replicas are unreachable and then silent): one page, QuorumLost's, and no replica's alert while it
    /// fires (held back while it is pending, then under it). The only other notification is the warning of the view
    /// change with which the cluster recovers, at 211 s.
    @Test func theCapturesDoubleFailurePagesQuorumLostOnly() throws {
        let timeline = try CaptureTimeline()
        let clock = VirtualClock(wallStart: CaptureTimeline.epoch)
        let log = ReceivedLog()
        let loop = loop(clock, log, timeline: timeline)
        loop.start()
        for _ in 1...213 { clock.advance(by: .seconds(1), loops: 2) }
        loop.stop(drainUntil: clock.monotonic())
        let incident = log.all.filter { $0.second >= 160 }
        let firing = incident.compactMap { $0.message }.filter { $0.status == "firing" }
        let names = firing.flatMap { $0.alerts.map { $0.labels["alertname"] ?? "" } }
        #expect(names == [AlertName.quorumLost.rawValue, AlertName.viewChanged.rawValue], "\(firing.map(\.groupLabels))")
        #expect(firing.flatMap(\.alerts).filter { $0.labels["severity"] == "critical" }.count == 1)
        #expect(incident.first?.second == 169)
    }

    /// Two replicas die at 0 s; the probe flags one at 0.05 s, the other at 0.95 s (a probe interval apart at worst);
    /// a StatsD datagram from the survivor, 0.1 s after the deaths, says it has no peers left (isolated, judged on
    /// StatsD, its rule's `for` 0). QuorumLost (two of three replicas unhealthy from 0.1 s) is the first and only
    /// page, one probe interval later; the survivor's alert waits two probe intervals and then is held back under it.
    /// (Before, the survivor's TigerBeetleReplicaIsolated paged at 0.1 s, a second ahead of QuorumLost.)
    @Test func aSurvivorFlaggedByStatsDRightAfterADoubleFailureDoesNotPageBeforeQuorumLost() throws {
        let capture = try Fixtures.capture()
        let base = CaptureTimeline.epoch + .seconds(160)
        var store = MetricStore(options: .init())
        for datagram in capture where datagram.time <= 160 {
            let now = CaptureTimeline.epoch + .nanoseconds(Int64(datagram.time * 1e9))
            Array(datagram.text.utf8).withUnsafeBytes { store.ingest(datagram: $0, now: now) }
        }
        let beforeFailure = store
        var afterReport = store
        let noPeers = "tb.message_bus_connections:0|g|#cluster:\(CaptureTimeline.cluster),replica:1,peer:replica"
        Array(noPeers.utf8).withUnsafeBytes { afterReport.ingest(datagram: $0, now: base + s / 10) }
        let afterReportSignals = afterReport.signals
        let flaggedAt = [0: base + .milliseconds(50), 2: base + .milliseconds(950)]
        let policy = HealthPolicy(startedAt: CaptureTimeline.epoch, probeResultTTL: .seconds(2))
        let health: @Sendable (WallInstant) -> HealthReport = { now in
            var probes: [ReplicaKey: ProbeResult] = [:]
            for replica in 0..<3 {
                let down = flaggedAt[replica].map { now >= $0 } ?? false
                probes[ReplicaKey(cluster: CaptureTimeline.cluster, replica: replica)] = ProbeResult(
                    success: !down, durationSeconds: 0.0002, at: now, error: down ? "connection refused" : nil,
                    reachableSince: CaptureTimeline.epoch)
            }
            let signals = now >= base + s / 10 ? afterReportSignals : beforeFailure.signals
            return HealthEvaluator.evaluate(watched: [CaptureTimeline.watched], signals: signals, probes: probes, policy: policy, now: now)
        }
        #expect(health(base).clusters[0].quorumLost == false)
        #expect(health(base + s / 5).clusters[0].replicas[1].reasons.map(\.state) == [.isolated])
        let clock = VirtualClock(wallStart: base)
        let log = ReceivedLog()
        let wakeup = clock.makeWakeup()
        // The store's view changes predate this loop, which would take them for news: ViewChanged is not this test's.
        var settings = Self.settings(minimumFor: s)
        settings.rules.settings[.viewChanged]?.enabled = false
        let loop = AlertLoop(
            settings: settings, health: health, clock: clock, wakeup: wakeup, send: log.sender(clock), logger: Logger(label: "test"))
        loop.start()
        for tenth in 0..<150 {
            // The agent evaluates on every change of the health model: each StatsD datagram and probe result.
            if [1, 2, 10].contains(tenth) { wakeup.signal() }
            clock.advance(by: .milliseconds(100), loops: 2)
        }
        loop.stop(drainUntil: clock.monotonic())
        let firing = log.all.filter { $0.message?.status == "firing" }
        #expect(firing.map { $0.message?.groupLabels["alertname"] } == [AlertName.quorumLost.rawValue])
        #expect(firing.map { ($0.second * 100).rounded() / 100 } == [1.1])
        // The survivor's alert did fire, held back under QuorumLost as Alertmanager's inhibit rule would.
        #expect(loop.active.contains { $0.name == .replicaIsolated && $0.state == .firing })
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
        let clock = VirtualClock(wallStart: CaptureTimeline.epoch)
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
        let deadline = MonotonicInstant.zero + .seconds(3)
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
