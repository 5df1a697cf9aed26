import TestSupport
import Testing
import TigerBeetle

@testable import Alerting

private let ms = Duration.milliseconds(1)
private let s = Duration.seconds(1)

/// One webhook receiver's queue as `NotificationChannel` keeps it, on virtual time: a newer message of the
/// same group replaces a queued one; one message is delivered at a time, each taking `serviceTime`; while
/// `down`, every delivery fails (retries exhausted at once, for simplicity).
private struct ReceiverModel {
    var planner = NotificationPlanner()
    var receivers = [WebhookReceiverConfig(name: "oncall", url: "http://oncall/")]
    var serviceTime: Duration = .seconds(2)
    var down = false
    var queue: [NotificationPlanner.Notification] = []
    var current: (NotificationPlanner.Notification, done: WallInstant)?
    /// Messages the receiver accepted, in order.
    var received: [WebhookMessage] = []
    var active: [String: Alert] = [:]
    var now: WallInstant = .epoch

    mutating func enqueue(_ notifications: [NotificationPlanner.Notification]) {
        for notification in notifications {
            if let index = queue.firstIndex(where: { $0.key == notification.key }) {
                planner.record(queue[index].id, .superseded, now: now)
                queue[index] = notification
            } else {
                queue.append(notification)
            }
        }
    }

    mutating func evaluate(_ transitions: [Alert]) {
        for alert in transitions { active[alert.fingerprint] = alert.state == .resolved ? nil : alert }
        enqueue(
            planner.plan(
                transitions: transitions, active: Array(active.values), receivers: receivers, alertmanagers: false,
                resendDelay: .seconds(60), externalURL: "http://beetlewatch", now: now))
    }

    /// Advances to `end` in 100 ms steps, evaluating (with no transitions) every second as the alert loop does.
    mutating func run(until end: WallInstant) {
        while now < end {
            now += .milliseconds(100)
            if let (notification, done) = current, now >= done {
                if down {
                    planner.record(notification.id, .failed, now: now)
                } else {
                    planner.record(notification.id, .delivered, now: now)
                    received.append(notification.webhook!)
                }
                current = nil
            }
            if current == nil, !queue.isEmpty {
                let next = queue.removeFirst()
                planner.record(next.id, .started, now: now)
                current = (next, now + serviceTime)
            }
            if (now - .epoch).components.attoseconds == 0 { evaluate([]) }  // on each whole second
        }
    }

    /// Every (status, replica) the receiver was told, in order.
    var told: [String] {
        received.flatMap { $0.alerts.map { "\($0.status) \($0.labels["replica"] ?? "")" } }
    }
}

private func alert(_ replica: Int, _ state: Alert.State, at second: Double) -> Alert {
    let t = WallInstant.seconds(second)
    return Alert(
        name: .replicaUnreachable,
        labels: ["alertname": "TigerBeetleReplicaUnreachable", "cluster": "c", "replica": "\(replica)", "severity": "critical"],
        annotations: ["summary": "replica \(replica)"], state: state, activeAt: .epoch, firedAt: .epoch,
        resolvedAt: state == .resolved ? t : nil)
}

@Suite struct NotificationPlannerTests {
    /// The simulator's seed 800122: a resolution retried through a hanging receiver while the alert fired and resolved
    /// again. The second resolution is owed on its own (the first one's delivery neither holds it back nor pays it), and
    /// the receiver, told the second firing, is told it resolved.
    @Test func aSecondEpisodesResolutionIsOwedWhileTheFirstsIsStillBeingDelivered() throws {
        func unreachable(_ state: Alert.State, since activeAt: WallInstant, resolvedAt: WallInstant? = nil) -> Alert {
            Alert(
                name: .replicaUnreachable,
                labels: ["alertname": "TigerBeetleReplicaUnreachable", "cluster": "c", "replica": "1", "severity": "critical"],
                annotations: [:], state: state, activeAt: activeAt, firedAt: activeAt, resolvedAt: resolvedAt)
        }
        var planner = NotificationPlanner()
        let receivers = [WebhookReceiverConfig(name: "oncall", url: "http://oncall/")]
        func plan(_ transitions: [Alert], active: [Alert], at now: WallInstant) -> [NotificationPlanner.Notification] {
            planner.plan(
                transitions: transitions, active: active, receivers: receivers, alertmanagers: false, resendDelay: .seconds(60),
                externalURL: "http://beetlewatch", now: now)
        }
        let first = unreachable(.firing, since: .epoch)
        let fired = try #require(plan([first], active: [first], at: .epoch).first)
        planner.record(fired.id, .started, now: .epoch)
        planner.record(fired.id, .delivered, now: .epoch)
        // Resolved: its message is being delivered (the receiver hangs; it is retried)...
        let resolving = try #require(
            plan([unreachable(.resolved, since: .epoch, resolvedAt: .seconds(10))], active: [], at: .seconds(10)).first)
        planner.record(resolving.id, .started, now: .seconds(10))
        // ...while it fires again and resolves again.
        let second = unreachable(.firing, since: .seconds(20))
        let refired = try #require(plan([second], active: [second], at: .seconds(20)).first)
        #expect(refired.webhook?.alerts.map(\.status) == ["firing"])
        let again = plan([unreachable(.resolved, since: .seconds(20), resolvedAt: .seconds(30))], active: [], at: .seconds(30))
        #expect(again.flatMap { $0.webhook?.alerts.map(\.status) ?? [] } == ["resolved"], "the second resolution is sent")
        // The first resolution's delivery ends; the second is still owed until its own message is delivered.
        planner.record(resolving.id, .delivered, now: .seconds(35))
        #expect(planner.owed(to: "oncall") == [first.fingerprint])
        let last = try #require(again.first)
        planner.record(last.id, .started, now: .seconds(36))
        planner.record(last.id, .delivered, now: .seconds(36))
        #expect(planner.owed(to: "oncall").isEmpty)
    }

    /// Issue 13's lost resolution: a receiver taking 2 s a request, three replicas firing together and coming
    /// back 0.7 s apart while the first message is being delivered. Each resolution reaches it exactly once.
    @Test func resolutionsArrivingWhileAMessageIsQueuedOrInFlightAreAllDelivered() {
        var model = ReceiverModel()
        model.evaluate((0..<3).map { alert($0, .firing, at: 0) })
        model.run(until: .milliseconds(500))
        model.evaluate([alert(0, .resolved, at: 0.5)])
        model.run(until: .milliseconds(1_200))
        model.evaluate([alert(2, .resolved, at: 1.2)])
        model.run(until: .milliseconds(1_900))
        model.evaluate([alert(1, .resolved, at: 1.9)])
        model.run(until: .seconds(10))
        let resolutions = model.told.filter { $0.hasPrefix("resolved") }.sorted()
        #expect(resolutions == ["resolved 0", "resolved 1", "resolved 2"])
        // The first message (3 firing), then one carrying all three resolutions (the two in between were replaced).
        #expect(model.received.count == 2)
        #expect(model.received.last?.status == "resolved")
        #expect(model.planner.owed(to: "oncall").isEmpty)
    }

    /// A resolution in a message being delivered is not repeated in the next one, unless that delivery fails.
    @Test func aResolutionInFlightIsNotRepeated() {
        var model = ReceiverModel()
        model.evaluate([alert(0, .firing, at: 0), alert(1, .firing, at: 0)])
        model.run(until: .seconds(3))
        model.evaluate([alert(0, .resolved, at: 3)])
        model.run(until: .milliseconds(3_200))  // that message is now being delivered
        model.evaluate([alert(1, .resolved, at: 3.2)])
        model.run(until: .seconds(10))
        #expect(model.told == ["firing 0", "firing 1", "firing 1", "resolved 0", "resolved 1"])
    }

    /// A receiver down for 10 minutes: the firing and the resolution that happened meanwhile reach it when it is
    /// back (a retry every 30 s), the resolution once.
    @Test func aReceiverDownForTenMinutesGetsTheStateWhenBack() {
        var model = ReceiverModel()
        model.serviceTime = .milliseconds(100)
        model.down = true
        model.evaluate([alert(0, .firing, at: 0)])
        model.run(until: .seconds(300))
        model.evaluate([alert(0, .resolved, at: 300)])
        model.run(until: .seconds(600))
        #expect(model.received.isEmpty)
        #expect(model.planner.owed(to: "oncall").count == 1)
        model.down = false
        model.run(until: .seconds(640))
        #expect(model.told == ["resolved 0"])
        #expect(model.planner.owed(to: "oncall").isEmpty)
    }

    @Test func aFiringGroupIsRepeatedEveryRepeatInterval() {
        var model = ReceiverModel()
        model.serviceTime = .milliseconds(100)
        model.receivers[0].repeatInterval = .seconds(60)
        model.evaluate([alert(0, .firing, at: 0)])
        model.run(until: .seconds(150))
        #expect(model.received.count == 3)  // at 0, 60 and 120 s
        #expect(model.told == ["firing 0", "firing 0", "firing 0"])
    }

    /// Reload mid-incident: a receiver added while an alert fires hears of it at the next evaluation, and of its
    /// resolution; one removed is forgotten.
    @Test func aReceiverAddedMidIncidentHearsTheFiringAndTheResolution() {
        var model = ReceiverModel()
        model.serviceTime = .milliseconds(100)
        model.evaluate([alert(0, .firing, at: 0)])
        model.run(until: .seconds(5))
        model.receivers = [WebhookReceiverConfig(name: "new", url: "http://new/")]
        model.run(until: .seconds(10))
        model.evaluate([alert(0, .resolved, at: 10)])
        model.run(until: .seconds(15))
        #expect(model.received.map(\.receiver) == ["oncall", "new", "new"])
        #expect(model.told == ["firing 0", "firing 0", "resolved 0"])
        #expect(model.planner.groups["oncall"] == nil)
    }

    /// A receiver that does not want resolutions gets none, and owes nothing.
    @Test func sendResolvedFalseOwesNothing() {
        var model = ReceiverModel()
        model.serviceTime = .milliseconds(100)
        model.receivers[0].sendResolved = false
        model.evaluate([alert(0, .firing, at: 0)])
        model.run(until: .seconds(2))
        model.evaluate([alert(0, .resolved, at: 2)])
        model.run(until: .seconds(5))
        #expect(model.told == ["firing 0"])
        #expect(model.planner.owed(to: "oncall").isEmpty)
    }

    /// Alertmanager: the firing set on every change and every resend delay, endsAt four resend delays ahead;
    /// a resolution re-sent for 5 minutes.
    @Test func alertmanagerGetsTheWholeSetOnChangeAndEveryResendDelay() {
        var planner = NotificationPlanner()
        func plan(_ transitions: [Alert], active: [Alert], at second: Int64) -> [NotificationPlanner.Notification] {
            planner.plan(
                transitions: transitions, active: active, receivers: [], alertmanagers: true, resendDelay: .seconds(60),
                externalURL: "http://beetlewatch", now: .seconds(second))
        }
        let firing = alert(0, .firing, at: 0)
        let first = plan([firing], active: [firing], at: 0)
        #expect(first.count == 1 && first[0].destination == .alertmanagers && !first[0].isRepeat)
        #expect(first[0].alertmanager?.first?.endsAt == "1970-01-01T00:04:00.000Z")
        #expect(plan([], active: [firing], at: 30).isEmpty)
        let resend = plan([], active: [firing], at: 60)
        #expect(resend.count == 1 && resend[0].isRepeat)
        let resolved = alert(0, .resolved, at: 70)
        #expect(plan([resolved], active: [], at: 70).first?.alertmanager?.first?.endsAt == "1970-01-01T00:01:10.000Z")
        #expect(plan([], active: [], at: 130).first?.alertmanager?.count == 1)
        #expect(plan([], active: [], at: 400).isEmpty)
        // Resolved at 70, firing again at 410: only the firing copy goes out (with both, Alertmanager may keep
        // the resolved one).
        let again = alert(0, .firing, at: 410)
        #expect(plan([alert(0, .resolved, at: 405)], active: [], at: 405).first?.alertmanager?.count == 1)
        let batch = plan([again], active: [again], at: 410).first?.alertmanager
        #expect(batch?.count == 1)
        #expect(batch?.first?.endsAt == "1970-01-01T00:10:50.000Z")
    }

    /// While a cluster's QuorumLost fires, its replicas' alerts are held back from webhook receivers (as Alertmanager's
    /// inhibit rule): a replica paged before quorum was lost keeps its place and gets its resolution; one that
    /// fires and resolves under the QuorumLost is never sent; one still firing when QuorumLost ends is sent then.
    @Test func replicaAlertsAreHeldBackWhileQuorumIsLost() {
        var model = ReceiverModel()
        model.serviceTime = .milliseconds(100)
        let quorum = { (state: Alert.State, second: Double) in
            Alert(
                name: .quorumLost, labels: ["alertname": "TigerBeetleQuorumLost", "cluster": "c", "severity": "critical"],
                annotations: [:], state: state, activeAt: .epoch, firedAt: .epoch,
                resolvedAt: state == .resolved ? WallInstant.seconds(second) : nil)
        }
        model.evaluate([alert(0, .firing, at: 0)])
        model.run(until: .seconds(2))
        model.evaluate([quorum(.firing, 2), alert(1, .firing, at: 2), alert(2, .firing, at: 2)])
        model.run(until: .seconds(5))
        model.evaluate([alert(0, .resolved, at: 5), alert(1, .resolved, at: 5)])
        model.run(until: .seconds(8))
        #expect(model.told == ["firing 0", "firing ", "resolved 0"])
        model.evaluate([quorum(.resolved, 8)])
        model.run(until: .seconds(10))
        #expect(model.told == ["firing 0", "firing ", "resolved 0", "resolved ", "firing 2"])
        model.evaluate([alert(2, .resolved, at: 12)])
        model.run(until: .seconds(14))
        #expect(model.told.last == "resolved 2")
        #expect(model.planner.owed(to: "oncall").isEmpty)
    }
}
