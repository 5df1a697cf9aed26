import Alerting
import Foundation
import Health
import Logging
import Synchronization
import TigerBeetle

/// Evaluates the built-in rules on every change of the health model and at least every second, and
/// hands what `NotificationPlanner` decides to the webhook receivers' and Alertmanagers' channels,
/// telling it what became of earlier notifications first.
final class AlertLoop: Sendable {
    /// What the loop is configured with; all of it can change on reload.
    struct Settings: Equatable {
        var rules: AlertRules
        var runbookURL: String
        var receivers: [WebhookReceiverConfig]
        var alertmanagerURLs: [String]
        var externalURL: String
        var resendDelay: Duration
        /// Whether clusters heard from but not watched raise alerts.
        var alertsOnUnwatchedClusters: Bool
        /// No alert fires before its condition has held this long: one probe interval.
        var minimumFor: Duration = .zero
        /// How long the canary may take to decide whether a cluster commits (its interval and timeout; zero: no canary).
        var quorumDecisionWait: Duration = .zero
    }

    struct Receiver {
        var config: WebhookReceiverConfig
        var channel: NotificationChannel
    }

    struct Alertmanager {
        var url: String
        var channel: NotificationChannel
    }

    private struct State {
        var engine: AlertEngine
        var receivers: [Receiver]
        var alertmanagers: [Alertmanager]
        var externalURL: String
        var resendDelay: Duration
        var started = false
        var planner = NotificationPlanner()
        /// Every replica's recent verdicts, recorded at each evaluation (the status page's timelines and events).
        var history = VerdictHistory()
    }

    /// A channel dropped by a reload gets this long to send what it holds.
    static let retiredDrain: Duration = .seconds(5)
    /// The rules are evaluated at least this often, changes or not.
    static let evaluationInterval: Duration = .seconds(1)

    private let state: Mutex<State>
    private let health: @Sendable (_ now: WallInstant) -> HealthReport
    private let clock: any AgentClock
    private let wakeup: any Wakeup
    /// How channels deliver; nil: `HTTPClient` on the loop's clock.
    private let send: NotificationChannel.Sender?
    /// Each new channel's retry jitter.
    private let jitter: Jitter
    private let worker: WorkerThread
    private let logger: Logger
    /// Told every notification planned, before it is queued (the simulator's record of what paged).
    private let planned: (@Sendable ([NotificationPlanner.Notification]) -> Void)?

    /// Makes each channel's source of retry jitter: the system's in the agent, seeded in the simulator.
    typealias Jitter = @Sendable () -> any RandomNumberGenerator & Sendable

    /// - Parameters:
    ///   - health: the health report at `now`.
    ///   - wakeup: signalled by whoever changes what `health` reads (ingest, the prober); made from `clock`.
    ///   - send: how channels deliver (nil: `NotificationChannel.httpSender`, on `clock`).
    ///   - planned: told every notification planned, before it is queued.
    ///   - jitter: makes each channel's source of retry jitter.
    init(
        settings: Settings, health: @escaping @Sendable (_ now: WallInstant) -> HealthReport, clock: any AgentClock, wakeup: any Wakeup,
        send: NotificationChannel.Sender? = nil, logger: Logger,
        planned: (@Sendable ([NotificationPlanner.Notification]) -> Void)? = nil,
        jitter: @escaping Jitter = { SystemRandomNumberGenerator() }
    ) {
        let destinations = Self.destinations(settings, keeping: [], [], clock: clock, send: send, jitter: jitter, logger: logger)
        self.state = Mutex(
            State(
                engine: Self.engine(settings),
                receivers: destinations.receivers, alertmanagers: destinations.alertmanagers,
                externalURL: settings.externalURL, resendDelay: settings.resendDelay
            ))
        self.clock = clock
        self.wakeup = wakeup
        self.send = send
        self.jitter = jitter
        self.worker = WorkerThread(name: "alerts", wakeup: wakeup)
        self.health = health
        self.logger = logger
        self.planned = planned
    }

    private static func engine(_ settings: Settings) -> AlertEngine {
        var engine = AlertEngine(
            rules: settings.rules, runbookURL: settings.runbookURL, alertsOnUnwatchedClusters: settings.alertsOnUnwatchedClusters)
        engine.minimumFor = settings.minimumFor
        engine.quorumDecisionWait = settings.quorumDecisionWait
        return engine
    }

    var active: [Alert] { state.withLock { $0.engine.active } }

    var alertmanagerCount: Int { state.withLock { $0.alertmanagers.count } }

    var history: VerdictHistory { state.withLock { $0.history } }

    var channels: [NotificationChannel] { state.withLock { Self.channels(of: $0) } }

    private static func channels(of state: State) -> [NotificationChannel] {
        state.receivers.map(\.channel) + state.alertmanagers.map(\.channel)
    }

    func start() {
        let channels = state.withLock { state in
            state.started = true
            return Self.channels(of: state)
        }
        channels.forEach { $0.start() }
        worker.start { [self] in
            while worker.isRunning {
                let now = clock.wall()
                let due = evaluate(now: now)
                wakeup.wait(until: clock.monotonic() + Self.wait(due: due, now: now))
            }
        }
    }

    /// How long the loop sleeps after evaluating at `now` unless woken: at most a second; less when a pending alert's
    /// `for` or a kept alert's hold runs out at `due` (never less than a millisecond: a wall clock stepped back cannot
    /// make it spin).
    static func wait(due: WallInstant?, now: WallInstant) -> Duration {
        let untilDue = due.map { max($0 - now, .milliseconds(1)) }
        return min(untilDue ?? evaluationInterval, evaluationInterval)
    }

    /// Stops evaluating; queued notifications get until `deadline`.
    func stop(drainUntil deadline: MonotonicInstant) {
        worker.stop()
        channels.forEach { $0.stop(drainUntil: deadline) }
    }

    /// Applies new settings and keeps what is running: pending and firing alerts stay (an alert
    /// whose rule is now disabled resolves on the next evaluation), and a receiver or Alertmanager
    /// whose configuration is unchanged keeps its channel and queue.
    func reconfigure(_ settings: Settings) {
        let (added, retired) = state.withLock { state -> ([NotificationChannel], [NotificationChannel]) in
            state.engine.rules = settings.rules
            state.engine.runbookURL = settings.runbookURL
            state.engine.alertsOnUnwatchedClusters = settings.alertsOnUnwatchedClusters
            state.engine.minimumFor = settings.minimumFor
            state.engine.quorumDecisionWait = settings.quorumDecisionWait
            state.externalURL = settings.externalURL
            state.resendDelay = settings.resendDelay
            let old = Self.channels(of: state)
            (state.receivers, state.alertmanagers) = Self.destinations(
                settings, keeping: state.receivers, state.alertmanagers, clock: clock, send: send, jitter: jitter, logger: logger)
            let new = Self.channels(of: state)
            let oldIDs = Set(old.map(ObjectIdentifier.init))
            let newIDs = Set(new.map(ObjectIdentifier.init))
            return (
                state.started ? new.filter { !oldIDs.contains(ObjectIdentifier($0)) } : [],
                old.filter { !newIDs.contains(ObjectIdentifier($0)) }
            )
        }
        added.forEach { $0.start() }
        for channel in retired {
            let deadline = clock.monotonic() + Self.retiredDrain
            let thread = Thread { channel.stop(drainUntil: deadline) }
            thread.name = "notify-retire"
            thread.start()
        }
        wakeup.signal()
    }

    /// The destinations `settings` asks for, reusing each receiver or Alertmanager whose configuration is
    /// unchanged (its channel and queue) and making channels for the others.
    private static func destinations(
        _ settings: Settings, keeping receivers: [Receiver], _ alertmanagers: [Alertmanager],
        clock: any AgentClock, send: NotificationChannel.Sender?, jitter: Jitter,
        logger: Logger
    ) -> (receivers: [Receiver], alertmanagers: [Alertmanager]) {
        (
            settings.receivers.map { config in
                receivers.first { $0.config == config }
                    ?? Receiver(
                        config: config,
                        channel: NotificationChannel(
                            name: config.name, delivery: delivery(for: config), clock: clock, send: send, random: jitter(),
                            logger: logger))
            },
            settings.alertmanagerURLs.map { url in
                alertmanagers.first { $0.url == url }
                    ?? Alertmanager(
                        url: url,
                        channel: NotificationChannel(
                            name: "alertmanager \(url)", delivery: delivery(alertmanager: url), clock: clock, send: send,
                            random: jitter(), logger: logger))
            }
        )
    }

    static func delivery(for receiver: WebhookReceiverConfig) -> NotificationChannel.Delivery {
        .init(
            url: URL(string: receiver.url)!, headers: headers(for: receiver), timeout: receiver.timeout,
            tls: .init(caFile: receiver.tlsCAFile, insecureSkipVerify: receiver.tlsInsecureSkipVerify))
    }

    static func delivery(alertmanager url: String) -> NotificationChannel.Delivery {
        .init(url: URL(string: url + "/api/v2/alerts")!, headers: [:], timeout: .seconds(10), maxAttempts: 3)
    }

    static func headers(for receiver: WebhookReceiverConfig) -> [String: String] {
        var headers = receiver.headers
        if let token = receiver.bearerToken { headers["Authorization"] = "Bearer \(token)" }
        if let auth = receiver.basicAuth {
            headers["Authorization"] = "Basic " + Data("\(auth.username):\(auth.password)".utf8).base64EncodedString()
        }
        return headers
    }

    /// One evaluation at `now`; returns when the next one is due with nothing else changed (`AlertEngine.nextTransitionAt`).
    @discardableResult
    func evaluate(now: WallInstant) -> WallInstant? {
        let report = health(now)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return state.withLock { state -> WallInstant? in
            state.history.record(report)
            let transitions = state.engine.evaluate(report, now: now)
            for alert in transitions {
                logger.log(
                    level: alert.state == .firing ? .warning : .notice, "alert \(alert.state.rawValue)",
                    metadata: [
                        "alertname": "\(alert.name.rawValue)",
                        "labels":
                            "\(alert.labels.filter { $0.key != "alertname" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
                    ])
            }
            for channel in Self.channels(of: state) {
                for (id, outcome) in channel.takeOutcomes() { state.planner.record(id, outcome, now: now) }
            }
            let notifications = state.planner.plan(
                transitions: transitions, active: state.engine.active, receivers: state.receivers.map(\.config),
                alertmanagers: !state.alertmanagers.isEmpty, resendDelay: state.resendDelay, externalURL: state.externalURL, now: now)
            if !notifications.isEmpty { planned?(notifications) }
            for notification in notifications {
                switch notification.message {
                case .webhook(let name, let message):
                    guard let channel = state.receivers.first(where: { $0.config.name == name })?.channel else {
                        assertionFailure("the planner plans for the configured receivers only: \(name)")
                        continue
                    }
                    guard let body = encode(message, encoder, notification) else {
                        state.planner.record(notification.id, .failed, now: now)
                        continue
                    }
                    channel.enqueue(.init(id: notification.id, key: notification.key, body: body, isRepeat: notification.isRepeat))
                case .alertmanager(let alerts):
                    guard let body = encode(alerts, encoder, notification) else {
                        state.planner.record(notification.id, .failed, now: now)
                        continue
                    }
                    for channel in state.alertmanagers.map(\.channel) {
                        channel.enqueue(.init(id: notification.id, key: notification.key, body: body, isRepeat: notification.isRepeat))
                    }
                }
            }
            return state.engine.nextTransitionAt
        }
    }

    /// A notification's JSON body; nil and logged if it cannot be encoded (a value JSON cannot hold: never expected),
    /// and the caller tells the planner it failed (its group is sent again later).
    private func encode(_ value: some Encodable, _ encoder: JSONEncoder, _ notification: NotificationPlanner.Notification) -> Data? {
        do {
            return try encoder.encode(value)
        } catch {
            assertionFailure("a notification that cannot be encoded: \(error)")
            logger.error("a notification could not be encoded; not sent", metadata: ["group": "\(notification.key)", "error": "\(error)"])
            return nil
        }
    }
}
