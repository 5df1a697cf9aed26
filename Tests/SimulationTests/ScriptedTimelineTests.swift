import Alerting
import Foundation
import TestSupport
import Testing
import TigerBeetle

@testable import Simulation

/// Timelines written out, run on the simulator: the agent's own code on simulated time, so what took a real agent,
/// fake replicas and a webhook recorder 20 s of wall clock (and failed when the machine was loaded) takes a fraction
/// of a second, and every invariant is checked along the way. What only real processes show (the HTTP client on a
/// real socket, the webhook's wire format to a real receiver) stays in `AlertingEndToEndTests`.
@Suite struct ScriptedTimelineTests {
    static func run(_ plan: FaultPlan, named: Bool = false) async throws -> Simulation.Outcome {
        let outcome = try await onOwnThread { Simulation.run(plan: plan, named: named) }
        #expect(
            outcome.violation == nil,
            "\(outcome.violation.map(String.init(describing:)) ?? "")\n\(outcome.trace.lines.suffix(12).joined(separator: "\n"))")
        return outcome
    }

    static func alerts(_ outcome: Simulation.Outcome) -> [(at: MonotonicInstant, status: String, name: String, replica: String?)] {
        outcome.received.flatMap { entry in
            entry.message.alerts.map { (entry.at, $0.status, $0.labels["alertname"] ?? "?", $0.labels["replica"]) }
        }
    }

    /// A replica stopped (`kill -STOP`) pages TigerBeetleReplicaHung once, critical, with its address, within its bound
    /// and the alert's hold (two probe intervals); continued, the alert resolves within a few seconds, once. Nothing else
    /// pages (the cluster commits throughout; the canary's requests sent through it while it was stopped went unforwarded,
    /// and paged Isolated after it continued before a replica had to answer without a break since before them).
    @Test func aStoppedReplicaPagesHungOnceAndResolvesWhenItContinues() async throws {
        let plan = FaultPlan(duration: .seconds(60), faults: [.init(.stop(2), from: .seconds(20), to: .seconds(35))])
        let outcome = try await Self.run(plan)
        let heard = Self.alerts(outcome)
        #expect(
            heard.map { "\($0.status) \($0.name) \($0.replica ?? "")" } == [
                "firing TigerBeetleReplicaHung 2", "resolved TigerBeetleReplicaHung 2",
            ])
        let firing = try #require(outcome.received.first)
        #expect(firing.at <= .seconds(20 + 5), "paged \((firing.at - MonotonicInstant.seconds(20)).seconds) s after the stop")
        #expect(
            firing.message.commonLabels == [
                "alertname": "TigerBeetleReplicaHung", "cluster": "00000000000000000000000000007e57", "replica": "2",
                "severity": "critical", "address": "10.77.0.12:3000",
            ])
        #expect(firing.message.commonAnnotations["description"]?.contains("accepts connections but its event loop does not answer") == true)
        let resolved = try #require(outcome.received.last)
        #expect(resolved.at <= .seconds(35 + 3), "resolved \((resolved.at - MonotonicInstant.seconds(35)).seconds) s after it continued")
    }

    /// The receiver is down (connection refused) when Hung fires and comes back a second later: the channel's retries
    /// (backing off, 0.5 s doubling) reach it, and it hears the page once, then its resolution. (Down past the channel's
    /// five tries, about 6 s, the planner sends the group again 30 s after the last: seen here once, a replica hung 40 s
    /// whose page never reached a receiver back for the last 15 of them, only its resolution.)
    @Test func aReceiverThatComesBackGetsThePageOnce() async throws {
        let plan = FaultPlan(
            duration: .seconds(60), faults: [.init(.stop(2), from: .seconds(20), to: .seconds(35))],
            receiver: [.init(kind: .down, start: .seconds(15), end: .seconds(25))])
        let outcome = try await Self.run(plan)
        let heard = Self.alerts(outcome)
        #expect(
            heard.map { "\($0.status) \($0.name) \($0.replica ?? "")" } == [
                "firing TigerBeetleReplicaHung 2", "resolved TigerBeetleReplicaHung 2",
            ])
        #expect(
            heard.first.map { $0.at >= .seconds(25) && $0.at < .seconds(27) } == true, "heard at the first try after it was back")
        #expect(outcome.trace.lines.contains { $0.contains("Connection refused") }, "tried while it was down")
    }

    /// Replicas configured by host name: the prober resolves each (off its loop, through its network), probes the
    /// address, and a stopped one is hung and paged as one configured by address, its page naming the address
    /// configured.
    @Test func replicasConfiguredByNameAreResolvedAndProbed() async throws {
        let plan = FaultPlan(duration: .seconds(60), faults: [.init(.stop(2), from: .seconds(20), to: .seconds(35))])
        let outcome = try await Self.run(plan, named: true)
        let heard = Self.alerts(outcome)
        #expect(
            heard.map { "\($0.status) \($0.name) \($0.replica ?? "")" } == [
                "firing TigerBeetleReplicaHung 2", "resolved TigerBeetleReplicaHung 2",
            ])
        #expect(outcome.received.first?.message.commonLabels["address"] == "replica-2.sim:3000")
        #expect(outcome.sent["ping_client", default: 0] > 100)
    }

    /// A full-cluster restart to a slow receiver (2 s a request): every replica stopped, then continued 0.7 s apart. The
    /// receiver is paged once (QuorumLost firing, then resolved) and hears nothing of the replicas, whose alerts are held
    /// back while quorum is lost and over before QuorumLost ends.
    @Test func aFullClusterRestartPagesQuorumLostOnly() async throws {
        let plan = FaultPlan(
            duration: .seconds(90),
            faults: [
                .init(.stop(0), from: .seconds(20), to: .seconds(40)),
                .init(.stop(1), from: .seconds(20), to: .milliseconds(40_700)),
                .init(.stop(2), from: .seconds(20), to: .milliseconds(41_400)),
            ],
            receiver: [.init(kind: .slow(latency: .seconds(2)), start: .zero, end: .seconds(90))])
        let outcome = try await Self.run(plan)
        let heard = Self.alerts(outcome)
        #expect(heard.map { "\($0.status) \($0.name)" } == ["firing TigerBeetleQuorumLost", "resolved TigerBeetleQuorumLost"])
        #expect(!heard.contains { $0.name.hasPrefix("TigerBeetleReplica") })
    }

    /// When `/ready` changed, from the trace (the world writes a line each time the verdict turns).
    static func readiness(_ outcome: Simulation.Outcome) -> [(at: Double, ready: Bool)] {
        outcome.trace.lines.compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, fields[1] == "/ready", let at = Double(fields[0]) else { return nil }
            return (at, fields[2] == "200")
        }
    }

    /// Two replicas of three stopped together for 20 s: the cluster cannot commit. `/ready` closes within the bound
    /// for a quorum loss, QuorumLost pages once (critical) and resolves once, no replica pages (one incident, one
    /// page), and `/ready` opens again once they continue. (On the wall clock, with fake replicas, this was the
    /// second half of `CanaryEndToEndTests.readinessFollowsTheClusterCommitting`.)
    @Test func twoReplicasStoppedCloseReadyAndPageQuorumLostOnly() async throws {
        let plan = FaultPlan(
            duration: .seconds(70),
            faults: [.init(.stop(1), from: .seconds(20), to: .seconds(40)), .init(.stop(2), from: .seconds(20), to: .seconds(40))])
        let outcome = try await Self.run(plan)
        #expect(
            Self.alerts(outcome).map { "\($0.status) \($0.name)" } == ["firing TigerBeetleQuorumLost", "resolved TigerBeetleQuorumLost"])
        let firing = try #require(outcome.received.first)
        #expect(firing.message.commonLabels["severity"] == "critical")
        let after = firing.at - MonotonicInstant.seconds(20)
        #expect(after <= InvariantMonitor.quorumLossBound + .seconds(2), "paged \(after.seconds) s after")
        // Closed until the first evidence (the canary commits at once), closed by the outage, open again.
        let readiness = Self.readiness(outcome)
        #expect(readiness.map(\.ready) == [false, true, false, true], "\(readiness)")
        if readiness.count == 4 {
            #expect(readiness[1].at < 1, "ready \(readiness[1].at) s after the start")
            #expect(
                readiness[2].at >= 20 && readiness[2].at - 20 <= InvariantMonitor.quorumLossBound.seconds,
                "closed \(readiness[2].at - 20) s after")
            #expect(readiness[3].at >= 40 && readiness[3].at - 40 <= 3, "open again \(readiness[3].at - 40) s after")
        }
    }

    /// The inhibition hides nothing that outlasts the incident: of two replicas stopped together, one continues after
    /// 20 s and the other stays stopped. QuorumLost pages and resolves; then the replica still stopped pages Hung (held
    /// back until QuorumLost ended), and the one that came back never pages. (The same with Alertmanager's inhibition
    /// and Prometheus's rules, on real processes: `QuorumOutageLingeringReplicaTests`.)
    @Test func aReplicaStillStoppedWhenQuorumReturnsPagesHungAfterQuorumLostResolves() async throws {
        let plan = FaultPlan(
            duration: .seconds(90),
            faults: [.init(.stop(1), from: .seconds(20), to: .seconds(40)), .init(.stop(2), from: .seconds(20), to: .seconds(60))])
        let outcome = try await Self.run(plan)
        let heard = Self.alerts(outcome)
        #expect(
            heard.map { "\($0.status) \($0.name) \($0.replica ?? "")" } == [
                "firing TigerBeetleQuorumLost ", "resolved TigerBeetleQuorumLost ", "firing TigerBeetleReplicaHung 2",
                "resolved TigerBeetleReplicaHung 2",
            ])
        let quorumResolved = try #require(heard.first { $0.status == "resolved" && $0.name == "TigerBeetleQuorumLost" })
        let hung = try #require(heard.first { $0.name == "TigerBeetleReplicaHung" })
        #expect(hung.at >= quorumResolved.at)
        #expect(hung.at < .seconds(60))
    }

    /// Issue 13's lost resolution, on the simulator: the receiver takes 2 s a request, and two alerts of one group
    /// (beetlewatch cut off from replicas 1 and 2 while the cluster commits: each Unobserved, a warning) resolve 0.7 s
    /// apart while the message before is in flight. Each resolution reaches the receiver, once.
    @Test func everyResolutionReachesASlowReceiverOnce() async throws {
        let plan = FaultPlan(
            duration: .seconds(90),
            faults: [
                .init(.cutAgent([1]), from: .seconds(20), to: .seconds(40)),
                .init(.cutAgent([2]), from: .seconds(20), to: .seconds(40) + .milliseconds(700)),
            ],
            receiver: [.init(kind: .slow(latency: .seconds(2)), start: .zero, end: .seconds(90))])
        let outcome = try await Self.run(plan)
        let heard = Self.alerts(outcome)
        let resolved = heard.filter { $0.status == "resolved" }.map { "\($0.name) \($0.replica ?? "")" }
        #expect(
            resolved.sorted() == ["TigerBeetleReplicaUnobserved 1", "TigerBeetleReplicaUnobserved 2"],
            "\(heard.map { "\($0.at.nanoseconds / 1_000_000) \($0.status) \($0.name) \($0.replica ?? "")" })")
        #expect(Set(heard.filter { $0.status == "firing" }.map(\.name)) == ["TigerBeetleReplicaUnobserved"])
        // The second came while the message carrying the first was in flight (a POST takes 2 s), and went in the next.
        let times = heard.filter { $0.status == "resolved" }.map(\.at)
        #expect(times.count == 2 && times[1] - times[0] >= .seconds(2), "\(times)")
    }
}
