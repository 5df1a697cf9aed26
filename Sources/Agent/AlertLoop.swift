import Alerting
import Foundation
import Health
import Logging
import Synchronization

/// Evaluates the built-in rules on every change of the health model and at least
/// every second, and routes transitions to webhook receivers and Alertmanagers.
final class AlertLoop: Sendable {
    struct Receiver {
        var config: WebhookReceiverConfig
        var channel: NotificationChannel
    }

    private struct State {
        var engine: AlertEngine
        /// Resolved alerts re-sent to Alertmanager for 5 minutes, in case it restarted.
        var recentlyResolved: [Alert] = []
        /// receiver + group key → when last notified (for repeat_interval).
        var lastNotified: [String: Int64] = [:]
        var lastAlertmanagerPush: Int64 = 0
    }

    static let resolvedRetention: Int64 = 300_000_000_000

    private let state: Mutex<State>
    private let health: @Sendable () -> HealthReport
    private let receivers: [Receiver]
    private let alertmanagers: [NotificationChannel]
    private let externalURL: String
    private let resendDelay: Int64
    private let wake: DispatchSemaphore
    private let worker = WorkerThread(name: "alerts")
    private let logger: Logger

    init(engine: AlertEngine, health: @escaping @Sendable () -> HealthReport, receivers: [Receiver],
         alertmanagers: [NotificationChannel], externalURL: String, resendDelay: Int64,
         wake: DispatchSemaphore, logger: Logger) {
        self.state = Mutex(State(engine: engine))
        self.wake = wake
        self.health = health
        self.receivers = receivers
        self.alertmanagers = alertmanagers
        self.externalURL = externalURL
        self.resendDelay = resendDelay
        self.logger = logger
    }

    var active: [Alert] { state.withLock { $0.engine.active } }

    var channels: [NotificationChannel] { receivers.map(\.channel) + alertmanagers }

    func start() {
        channels.forEach { $0.start() }
        worker.start { [self] in
            while worker.isRunning {
                evaluate(now: WallClock.now())
                _ = wake.wait(timeout: .now() + .seconds(1))
            }
        }
    }

    /// Stops evaluating; queued notifications get until `deadline` (monotonic ns).
    func stop(drainUntil deadline: Int64) {
        worker.stop()
        channels.forEach { $0.stop(drainUntil: deadline) }
    }

    func evaluate(now: Int64) {
        let report = health()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        state.withLock { state in
            let transitions = state.engine.evaluate(report, now: now)
            for alert in transitions {
                logger.log(level: alert.state == .firing ? .warning : .notice, "alert \(alert.state.rawValue)", metadata: [
                    "alertname": "\(alert.name.rawValue)",
                    "labels": "\(alert.labels.filter { $0.key != "alertname" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
                ])
            }
            let firing = state.engine.active.filter { $0.state == .firing }
            state.recentlyResolved += transitions.filter { $0.state == .resolved }
            state.recentlyResolved.removeAll { now - ($0.resolvedAt ?? now) > Self.resolvedRetention }

            // Webhooks: a group is notified when one of its alerts fires or resolves, and again every repeat_interval.
            let changedGroups = Set(transitions.map { WebhookGrouping.groupLabels(of: $0) })
            let firingGroups = Set(firing.map { WebhookGrouping.groupLabels(of: $0) })
            for receiver in receivers {
                for group in changedGroups.union(firingGroups) {
                    let key = receiver.config.name + " " + WebhookGrouping.groupKey(group)
                    let changed = changedGroups.contains(group)
                    if !changed && now - (state.lastNotified[key] ?? now) < receiver.config.repeatInterval { continue }
                    let inGroup = { (alert: Alert) in WebhookGrouping.groupLabels(of: alert) == group }
                    guard let message = WebhookGrouping.message(
                        receiver: receiver.config.name, group: group, firing: firing.filter(inGroup),
                        resolved: transitions.filter { $0.state == .resolved && inGroup($0) },
                        sendResolved: receiver.config.sendResolved, externalURL: externalURL),
                          let body = try? encoder.encode(message)
                    else { continue }
                    receiver.channel.enqueue(.init(key: WebhookGrouping.groupKey(group), body: body, isRepeat: !changed))
                    state.lastNotified[key] = firing.contains(where: inGroup) ? now : nil
                }
            }

            // Alertmanager: the whole firing set (and recent resolutions) on every change and every resend delay.
            if !alertmanagers.isEmpty && (!transitions.isEmpty || now - state.lastAlertmanagerPush >= resendDelay) {
                let batch = (firing + state.recentlyResolved).map {
                    AlertmanagerAlert($0, now: now, lifetime: 4 * resendDelay, externalURL: externalURL)
                }
                if !batch.isEmpty, let body = try? encoder.encode(batch) {
                    for channel in alertmanagers { channel.enqueue(.init(key: "alerts", body: body, isRepeat: transitions.isEmpty)) }
                }
                state.lastAlertmanagerPush = now
            }
        }
    }
}
