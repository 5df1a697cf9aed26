import Alerting
import Foundation
import TigerBeetle

/// The webhook receiver beetlewatch pages, with the run's receiver faults: what it heard is what on-call saw.
///
/// Down: connections refused. Failing: HTTP 503. Slow: it answers after a while; past the channel's timeout the channel
/// gives up, yet the receiver reads the message when it gets to it (so a resolution may come twice: HTTP delivers at
/// least once), unless it has answered a newer one meanwhile (a message read after a newer one would undo it, and no
/// sender can prevent that: not judged). Hanging: it never answers nor reads; the channel times out.
public struct SimulatedReceiver: Sendable {
    public enum Fault: Sendable, Equatable, CustomStringConvertible {
        case down
        case failing
        case slow(latency: Duration)
        case hanging

        public var description: String {
            switch self {
            case .down: "down"
            case .failing: "failing (503)"
            case .slow(let latency): "slow (\(latency.nanoseconds / 1_000_000) ms)"
            case .hanging: "hanging"
            }
        }
    }

    /// What the receiver last heard of an alert (by fingerprint).
    public struct Heard: Sendable {
        var name: String
        var replica: String?
        /// Which episode (the alert's `startsAt`): a later one of the same alert is another page.
        var startsAt: String
        var firing: Bool
        /// Its resolution was answered 2xx within the channel's timeout: the agent knows it was delivered.
        var resolutionAcknowledged = false
    }

    /// An answer on its way back to the agent, and whether the receiver reads the message (when, and if it answers in time).
    struct Answer {
        var at: MonotonicInstant
        var status: Int?
        var error: String?
    }

    var fault: Fault?
    /// Since when no fault has held (nil while one does).
    var healthySince: MonotonicInstant? = .zero
    private(set) var heard: [String: Heard] = [:]
    /// Every message it read, in order, with when.
    private(set) var messages: [(at: MonotonicInstant, message: WebhookMessage)] = []
    /// Messages read later than answered (a slow receiver past the channel's timeout): (read at, sent at, body).
    private var lateReads: [(at: MonotonicInstant, sentAt: MonotonicInstant, body: Data)] = []
    /// When the newest message the receiver answered in time was sent (nil: none yet).
    private var newestAnsweredSentAt: MonotonicInstant?
    /// Late reads dropped because a newer message had been answered.
    private(set) var staleReads = 0
    /// Resolutions heard twice after the first was acknowledged: (fingerprint, what).
    private(set) var duplicates: [(String, Heard)] = []

    mutating func set(fault: Fault?, now: MonotonicInstant) {
        self.fault = fault
        healthySince = fault == nil ? now : nil
    }

    /// A POST at `now` that the channel waits `timeout` for: the answer it gets, and when.
    mutating func post(_ body: Data, timeout: Duration, now: MonotonicInstant) -> Answer {
        switch fault {
        case .down:
            return Answer(at: now + .milliseconds(1), status: nil, error: "Connection refused")
        case .failing:
            return Answer(at: now + .milliseconds(5), status: 503, error: nil)
        case .hanging:
            return Answer(at: now + timeout, status: nil, error: "timed out")
        case .slow(let latency) where latency > timeout:
            lateReads.append((now + latency, now, body))
            return Answer(at: now + timeout, status: nil, error: "timed out")
        case .slow(let latency):
            newestAnsweredSentAt = now
            read(body, acknowledged: true, at: now)
            return Answer(at: now + latency, status: 200, error: nil)
        case nil:
            newestAnsweredSentAt = now
            read(body, acknowledged: true, at: now)
            return Answer(at: now + .milliseconds(2), status: 200, error: nil)
        }
    }

    /// What a webhook body says, in a few words: each alert's status and name.
    static func summary(_ body: Data) -> String {
        guard let message = try? JSONDecoder().decode(WebhookMessage.self, from: body) else { return "not a webhook message" }
        return message.alerts.map { "\($0.status) \($0.labels["alertname"] ?? "?")\($0.labels["replica"].map { " \($0)" } ?? "")" }
            .joined(separator: ", ")
    }

    /// Reads what a slow receiver got to by `now`.
    mutating func catchUp(now: MonotonicInstant) {
        while let first = lateReads.first, first.at <= now {
            lateReads.removeFirst()
            guard newestAnsweredSentAt.map({ first.sentAt > $0 }) ?? true else {
                staleReads += 1
                continue
            }
            read(first.body, acknowledged: false, at: first.at)
        }
    }

    /// When a late read is next due.
    var nextReadAt: MonotonicInstant? { lateReads.first?.at }

    private mutating func read(_ body: Data, acknowledged: Bool, at now: MonotonicInstant) {
        guard let message = try? JSONDecoder().decode(WebhookMessage.self, from: body) else {
            preconditionFailure("the agent sent a webhook body that is not a webhook message")
        }
        messages.append((now, message))
        for alert in message.alerts {
            let name = alert.labels["alertname"] ?? "?"
            let previous = heard[alert.fingerprint]
            let sameEpisodeResolved = previous.map { !$0.firing && $0.startsAt == alert.startsAt } ?? false
            if alert.status == "resolved" {
                if let previous, sameEpisodeResolved, previous.resolutionAcknowledged {
                    duplicates.append((alert.fingerprint, previous))
                }
                heard[alert.fingerprint] = Heard(
                    name: name, replica: alert.labels["replica"], startsAt: alert.startsAt, firing: false,
                    resolutionAcknowledged: acknowledged || sameEpisodeResolved && previous?.resolutionAcknowledged == true)
            } else {
                heard[alert.fingerprint] = Heard(name: name, replica: alert.labels["replica"], startsAt: alert.startsAt, firing: true)
            }
        }
    }
}
