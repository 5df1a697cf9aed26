import TigerBeetle

/// Decides which notifications go where, so that every resolution reaches every receiver that heard of
/// the alert firing: alert transitions + receivers + now → messages, and what became of each message →
/// what is still owed. Pure: no threads, no clock; time is a parameter.
///
/// Webhook receivers (Alertmanager's grouping by `alertname` and `cluster`): a group is notified when one
/// of its alerts fires or resolves, again every `repeat_interval` while it fires, and again after a
/// failed delivery. A resolution is owed to a receiver from the moment its firing was sent, and stays owed
/// until a message carrying it is delivered: a newer message of the same group that replaces a queued one
/// carries every resolution still owed, so coalescing never drops one (the lost resolution of issue 13:
/// three replicas resolving 0.7 s apart while a slow receiver held the first message). A resolution in a
/// message already being delivered is not repeated unless that delivery fails.
///
/// While a cluster's QuorumLost fires, its replicas' alerts are not sent to webhook receivers (Alertmanager's
/// inhibit rule in alertmanager/alertmanager.yml does the same for the other path); one a receiver already
/// had stays in its group's messages, and its resolution is owed as any other.
///
/// Alertmanager: the whole firing set plus resolutions of the last 5 minutes, on every change and every
/// resend delay, with `endsAt` 4 resend delays ahead (as Prometheus does).
public struct NotificationPlanner: Sendable {
    /// A message for one destination's queue.
    public struct Notification: Sendable, Equatable {
        public enum Destination: Sendable, Hashable {
            case receiver(String)
            case alertmanagers
        }

        /// What is sent where: a webhook message to one receiver, or alerts to every Alertmanager; one, never both.
        public enum Message: Sendable, Equatable {
            case webhook(receiver: String, WebhookMessage)
            case alertmanager([AlertmanagerAlert])
        }

        public var id: UInt64
        /// Queued notifications with the same key supersede each other (a group's newer state).
        public var key: String
        public var message: Message
        /// A re-send of an unchanged state (repeat interval, resend delay): dropped first when a queue is full.
        public var isRepeat: Bool

        public var destination: Destination {
            switch message {
            case .webhook(let receiver, _): .receiver(receiver)
            case .alertmanager: .alertmanagers
            }
        }

        /// The webhook message, if it is one.
        public var webhook: WebhookMessage? {
            if case .webhook(_, let message) = message { message } else { nil }
        }

        /// The Alertmanager alerts, if it is them.
        public var alertmanager: [AlertmanagerAlert]? {
            if case .alertmanager(let alerts) = message { alerts } else { nil }
        }
    }

    /// What became of a notification.
    public enum Outcome: Sendable, Equatable {
        /// Taken from the queue for delivery.
        case started
        /// The destination accepted it.
        case delivered
        /// Replaced in the queue by a newer one with the same key (which carries what this one did).
        case superseded
        /// Delivery gave up (retries exhausted, or dropped from a full queue, or at shutdown): sent again later.
        case failed
        /// The destination refused it (4xx): not sent again.
        case rejected
    }

    /// How long after a failed delivery a group is sent again.
    public static let retryDelay: Duration = .seconds(30)
    /// How long resolved alerts are re-sent to Alertmanager (in case it restarted).
    public static let resolvedRetention: Duration = .seconds(300)

    struct Group: Sendable {
        var labels: [String: String]
        /// Fingerprints whose firing was sent to the receiver: their resolution is owed.
        var firingSent: Set<String> = []
        /// Resolutions owed, not yet delivered.
        var owed: [String: Alert] = [:]
        /// Owed resolutions in a message being delivered, by fingerprint: not repeated unless it fails. Each is one
        /// episode's (its `activeAt`): a later episode of the same alert that resolves while an earlier one's
        /// resolution is still being delivered is owed anew, and that delivery does not pay it (the simulator, seed
        /// 800122: a resolution retried through a hanging receiver, the alert firing and resolving again meanwhile,
        /// and the second resolution never sent).
        var inDelivery: [String: WallInstant] = [:]
        var lastNotified: WallInstant?
        /// After a failed delivery: send the group's state again at this time.
        var retryAt: WallInstant?

        /// A message carrying `resolutions` is no longer being delivered.
        mutating func leaveDelivery(_ resolutions: [String: WallInstant]) {
            for (fingerprint, episode) in resolutions where inDelivery[fingerprint] == episode { inDelivery[fingerprint] = nil }
        }
    }

    struct Sent: Sendable {
        var receiver: String
        var group: String
        /// The resolutions it carries: fingerprint and episode (`activeAt`).
        var resolved: [String: WallInstant]
    }

    /// Per receiver name, per group key.
    private(set) var groups: [String: [String: Group]] = [:]
    private var sent: [UInt64: Sent] = [:]
    private var nextID: UInt64 = 0
    private var recentlyResolved: [Alert] = []
    private var lastAlertmanagerPush: WallInstant?

    public init() {}

    /// The resolutions still owed to `receiver`, by fingerprint (for tests and metrics).
    public func owed(to receiver: String) -> Set<String> {
        Set((groups[receiver] ?? [:]).values.flatMap(\.owed.keys))
    }

    /// The notifications to queue after an evaluation that produced `transitions`, with `active` the engine's
    /// pending and firing alerts.
    public mutating func plan(
        transitions: [Alert], active: [Alert], receivers: [WebhookReceiverConfig], alertmanagers: Bool,
        resendDelay: Duration, externalURL: String, now: WallInstant
    ) -> [Notification] {
        let firing = active.filter { $0.state == .firing }
        let resolved = transitions.filter { $0.state == .resolved }
        var out: [Notification] = []
        let names = Set(receivers.map(\.name))
        groups = groups.filter { names.contains($0.key) }
        let heldBack = Self.heldBack(firing)
        for receiver in receivers {
            out += planWebhooks(
                receiver, firing: firing, heldBack: heldBack, transitions: transitions, resolved: resolved,
                externalURL: externalURL, now: now)
        }
        recentlyResolved += resolved
        // A resolution is re-sent for a while, unless the alert fires again: the same fingerprint resolved
        // and firing in one batch let Alertmanager keep the resolved copy, and a short outage right after
        // an incident was never notified.
        let firingNow = Set(firing.map(\.fingerprint))
        recentlyResolved.removeAll {
            firingNow.contains($0.fingerprint)
                || now - ($0.resolvedAt ?? now) > Self.resolvedRetention
        }
        if alertmanagers {
            let due = lastAlertmanagerPush.map { now - $0 >= resendDelay } ?? true
            if !transitions.isEmpty || due {
                let batch = (firing + recentlyResolved).map {
                    AlertmanagerAlert($0, now: now, lifetime: resendDelay * 4, externalURL: externalURL)
                }
                if !batch.isEmpty {
                    out.append(
                        Notification(id: next(), key: "alerts", message: .alertmanager(batch), isRepeat: transitions.isEmpty))
                }
                lastAlertmanagerPush = now
            }
        } else {
            lastAlertmanagerPush = nil
        }
        return out
    }

    /// The firing replica alerts of clusters whose QuorumLost fires, by fingerprint: not sent to webhook receivers
    /// (as Alertmanager's inhibit rule in alertmanager/alertmanager.yml), unless a receiver already has their firing.
    static func heldBack(_ firing: [Alert]) -> Set<String> {
        let quorumLost = Set(firing.filter { $0.name == .quorumLost }.compactMap { $0.labels["cluster"] })
        guard !quorumLost.isEmpty else { return [] }
        return Set(firing.filter { $0.name.isHeldBackByQuorumLost && quorumLost.contains($0.labels["cluster"] ?? "") }.map(\.fingerprint))
    }

    private mutating func planWebhooks(
        _ receiver: WebhookReceiverConfig, firing: [Alert], heldBack: Set<String>, transitions: [Alert],
        resolved: [Alert], externalURL: String, now: WallInstant
    ) -> [Notification] {
        var mine = groups[receiver.name] ?? [:]
        // A group changes when the receiver has news for it: a resolution of a firing it was sent, or a firing not held back.
        var changed = Set<String>()
        // Resolutions become owed to the receivers that were sent their firing.
        for alert in resolved {
            let key = WebhookGrouping.groupKey(WebhookGrouping.groupLabels(of: alert))
            guard var group = mine[key], group.firingSent.remove(alert.fingerprint) != nil else { continue }
            if receiver.sendResolved { group.owed[alert.fingerprint] = alert }
            mine[key] = group
            changed.insert(key)
        }
        var firingByGroup: [String: [Alert]] = [:]
        for alert in firing {
            let labels = WebhookGrouping.groupLabels(of: alert)
            let key = WebhookGrouping.groupKey(labels)
            if heldBack.contains(alert.fingerprint) && mine[key]?.firingSent.contains(alert.fingerprint) != true { continue }
            firingByGroup[key, default: []].append(alert)
            if mine[key] == nil { mine[key] = Group(labels: labels) }
        }
        let shown = Set(firingByGroup.values.joined().map(\.fingerprint))
        for alert in transitions where alert.state == .firing && shown.contains(alert.fingerprint) {
            changed.insert(WebhookGrouping.groupKey(WebhookGrouping.groupLabels(of: alert)))
        }
        var out: [Notification] = []
        for key in mine.keys.sorted() {
            guard var group = mine[key] else { continue }
            // In a stable order: by their labels.
            let groupFiring = (firingByGroup[key] ?? []).sorted { Self.sortKey($0) < Self.sortKey($1) }
            let unheard = groupFiring.contains { !group.firingSent.contains($0.fingerprint) }
            let repeatDue =
                !groupFiring.isEmpty
                && group.lastNotified.map { now - $0 >= receiver.repeatInterval } ?? true
            let retryDue = group.retryAt.map { now >= $0 } ?? false
            let send = changed.contains(key) || unheard || repeatDue || retryDue
            let owed = group.owed.filter { group.inDelivery[$0.key] != $0.value.activeAt }
            if send,
                let message = WebhookGrouping.message(
                    receiver: receiver.name, group: group.labels, firing: groupFiring,
                    resolved: owed.values.sorted { ($0.resolvedAt ?? .epoch, $0.fingerprint) < ($1.resolvedAt ?? .epoch, $1.fingerprint) },
                    sendResolved: receiver.sendResolved, externalURL: externalURL)
            {
                let id = next()
                sent[id] = Sent(receiver: receiver.name, group: key, resolved: owed.mapValues(\.activeAt))
                group.firingSent.formUnion(groupFiring.map(\.fingerprint))
                group.lastNotified = groupFiring.isEmpty ? nil : now
                group.retryAt = nil
                out.append(
                    Notification(
                        id: id, key: key, message: .webhook(receiver: receiver.name, message),
                        isRepeat: !changed.contains(key) && !unheard && !retryDue))
            }
            mine[key] = group.firingSent.isEmpty && group.owed.isEmpty && groupFiring.isEmpty ? nil : group
        }
        groups[receiver.name] = mine
        return out
    }

    static func sortKey(_ alert: Alert) -> String {
        alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Records what became of notification `id`.
    public mutating func record(_ id: UInt64, _ outcome: Outcome, now: WallInstant) {
        guard let entry = sent[id] else { return }
        switch outcome {
        case .started:
            update(entry) { $0.inDelivery.merge(entry.resolved) { $1 } }
            return
        case .delivered, .rejected:
            update(entry) { group in
                for (fingerprint, episode) in entry.resolved where group.owed[fingerprint]?.activeAt == episode {
                    group.owed[fingerprint] = nil
                }
                group.leaveDelivery(entry.resolved)
            }
        case .superseded:
            break
        case .failed:
            update(entry) { group in
                group.leaveDelivery(entry.resolved)
                group.retryAt = now + Self.retryDelay
            }
        }
        sent[id] = nil
    }

    private mutating func update(_ entry: Sent, _ body: (inout Group) -> Void) {
        guard var group = groups[entry.receiver]?[entry.group] else { return }
        body(&group)
        groups[entry.receiver]?[entry.group] = group.firingSent.isEmpty && group.owed.isEmpty && group.retryAt == nil ? nil : group
    }

    private mutating func next() -> UInt64 {
        nextID &+= 1
        return nextID
    }
}
