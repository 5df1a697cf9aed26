import Health
import TestSupport
import Testing
import TigerBeetle
import VSR

@testable import Probe

/// A TigerBeetle cluster on virtual time, as the recorded exchanges and the live measurements show one answer a
/// client, and the canary driven against it the way the prober's loop drives it.
struct SimulatedCluster {
    var session: CanarySession
    /// Since the virtual clock's zero (the session is told `at(now)`).
    var now: Duration = .zero
    let rtt: Duration = ms
    var view: UInt32 = 1
    var primary: Int { Int(view) % reachable.count }
    /// Whether the cluster commits (a majority reaches the primary): the ground truth.
    var commits = true
    /// Whether beetlewatch reaches each replica (a cut path: connects time out, open connections go silent).
    var reachable: [Bool]
    /// Replicas cut off from their peers: they answer pings but forward nothing to the primary.
    var isolated: Set<Int> = []
    /// Replicas whose host has not acknowledged what was sent (a lossy path), as the loop's `PathReport` says.
    var unacknowledged: Set<Int> = []
    /// The session table: false once newer clients took the canary's session.
    var sessionKept = true
    /// Messages answering nothing, sent on `floodingReplica`'s connection after each reply (a flood), and whether a
    /// backup sends its copy of each reply.
    var strayMessagesPerReply = 0
    var floodingReplica = 2
    var backupCopies = true
    var open: [Bool]
    var inbound: [(at: Duration, replica: Int, bytes: [UInt8])] = []
    var commit: UInt64 = 10
    /// Replies already given, by request checksum: a request sent again is answered from the client table, and one
    /// that reaches the primary again while it is being prepared (from several replicas at once) is ignored.
    var answered: [UInt128: (commit: UInt64, context: UInt128, at: Duration)] = [:]
    var sent: [(at: Duration, replica: Int, bytes: [UInt8])] = []
    var connects = 0
    var closes = 0
    /// (time, state) whenever the state changed.
    var states: [(Duration, CanaryResult.State)] = []

    init(replicas: Int = 3, interval: Duration = second, timeout: Duration = second) {
        session = CanarySession(
            cluster: cluster, client: ClientID(0xbee7)!, replicaCount: replicas,
            timing: CanaryTiming(interval: interval, timeout: timeout, defaultRelease: release), start: .zero)
        reachable = Array(repeating: true, count: replicas)
        open = Array(repeating: false, count: replicas)
    }

    mutating func perform(_ commands: [CanarySession.Command]) {
        for command in commands {
            switch command {
            case .connect(let r):
                connects += 1
                // A cut path: the connect never completes (the session times it out).
                if reachable[r] {
                    open[r] = true
                    perform(session.connected(r, now: at(now)))
                }
            case .close(let r):
                closes += 1
                open[r] = false
                inbound.removeAll { $0.replica == r }
            case .send(let r, let bytes):
                sent.append((now, r, bytes))
                guard open[r], reachable[r] else { continue }
                deliver(bytes, to: r)
            }
        }
        let state = session.result.state
        if states.last?.1 != state { states.append((now, state)) }
    }

    /// What the cluster does with a message the canary sent replica `r`.
    mutating func deliver(_ bytes: [UInt8], to r: Int) {
        let command = bytes[114]
        if command == PingClient.command {
            let ping = ReplicaReplies.readPing(bytes)
            inbound.append(
                (
                    now + rtt, r,
                    ReplicaReplies.pong(cluster: cluster, replica: UInt8(r), view: view, release: release, timestamp: ping.timestamp)
                ))
            return
        }
        precondition(command == CanaryRequest.command, "a replica would crash on command \(command)")
        let request = ReplicaReplies.readRequest(bytes)
        precondition(request.checksumsValid && request.cluster == cluster)
        precondition(request.operation == CanaryRequest.registerOperation || request.operation == CanaryRequest.lookupAccountsOperation)
        guard commits, !(isolated.contains(r) && r != primary) else { return }
        if request.operation != CanaryRequest.registerOperation && !sessionKept {
            inbound.append(
                (
                    now + rtt, primary,
                    ReplicaReplies.eviction(
                        cluster: cluster, replica: UInt8(primary), view: view, release: release, client: request.client, reason: 1)
                ))
            return
        }
        if let previous = answered[request.checksum] {
            // Sent again after it committed: answered from the client table by the replica it reached (one that reaches
            // the primary again while it is being prepared is ignored).
            guard now - previous.at >= 2 * rtt else { return }
            let reply = ReplicaReplies.reply(
                to: bytes, cluster: cluster, primary: UInt8(primary), view: view, commit: previous.commit, context: previous.context)
            inbound.append((now + rtt, r, reply))
            return
        }
        commit += 1
        let entry = (commit: commit, context: UInt128(commit) << 64 | 0xc0ffee, at: now)
        answered[request.checksum] = entry
        let reply = ReplicaReplies.reply(
            to: bytes, cluster: cluster, primary: UInt8(primary), view: view, commit: entry.commit, context: entry.context)
        // As 0.17.9 does: the primary answers on its own connection from the client (none: lost), and one backup,
        // chosen by the op, sends its copy later.
        if open[primary] && reachable[primary] { inbound.append((now + 2 * rtt, primary, reply)) }
        let backup = (primary + 1 + Int(entry.commit % UInt64(reachable.count - 1))) % reachable.count
        if backupCopies && open[backup] && reachable[backup] { inbound.append((now + 40 * ms, backup, reply)) }
        if open[floodingReplica] {
            for _ in 0..<strayMessagesPerReply { inbound.append((now + 3 * rtt, floodingReplica, reply)) }
        }
    }

    /// Runs until `end`, ticking at the session's deadlines and delivering what arrives in between.
    mutating func run(until end: Duration) {
        while now < end {
            let nextArrival = inbound.map(\.at).min() ?? end
            let next = min(end, session.nextDeadline - .zero, nextArrival)
            now = max(now, next)
            let arrived = inbound.filter { $0.at <= now }
            inbound.removeAll { $0.at <= now }
            for message in arrived where open[message.replica] && reachable[message.replica] {
                perform(session.received(message.replica, message.bytes[...], now: at(now)))
            }
            if at(now) >= session.nextDeadline {
                let via = session.forwardCheckDue(at: at(now))
                let path = via.map {
                    PathReport(
                        unacknowledged: unacknowledged.contains($0) ? 1 : 0, unacknowledgedBytes: unacknowledged.contains($0) ? 288 : 0,
                        retransmissions: 0, roundTripMicroseconds: 100)
                }
                perform(session.tick(now: at(now), viaPath: path))
            }
        }
    }

    var requestsSent: [ReplicaReplies.Request] {
        sent.filter { $0.bytes[114] == CanaryRequest.command }.map { ReplicaReplies.readRequest($0.bytes) }
    }
}

@Suite struct CanarySessionTests {
    /// A healthy cluster: the register goes out on each connection as it opens, then a lookup every interval through
    /// each replica in turn (a backup forwards it to its primary), each committed in two round trips; a backup's later
    /// copy of each reply is ignored.
    @Test func aHealthyClusterCommitsEveryInterval() {
        var cluster = SimulatedCluster()
        cluster.run(until: 10 * second + 5 * ms)
        let result = cluster.session.result
        #expect(result.state == .committing)
        #expect(result.commits == 11, "a register and ten lookups")
        #expect(result.lastLatencySeconds == 0.002)
        #expect(result.failures.isEmpty, "\(cluster.session.lastRefusal ?? "")")
        let requests = cluster.requestsSent
        #expect(requests.prefix(3).map(\.operation) == Array(repeating: CanaryRequest.registerOperation, count: 3))
        let lookups = requests.dropFirst(3)
        #expect(lookups.allSatisfy { $0.operation == CanaryRequest.lookupAccountsOperation && $0.session == 11 })
        #expect(Set(lookups.map(\.request)) == Set(1...10))
        // Each lookup through one backup alone, each in turn, or (when the turn is the primary's, or before its connection
        // has delivered) to the primary and one other replica, as TigerBeetle's own clients send; chained to the previous
        // reply's context.
        let sends = cluster.sent.filter { $0.bytes[114] == CanaryRequest.command }.dropFirst(3)
        #expect(Set(sends.map(\.replica)) == [0, 1, 2])
        // The first to every replica: the register's reply came as a backup's copy, so the primary's connection had not
        // delivered yet.
        let copies = Dictionary(grouping: lookups, by: \.request).mapValues(\.count)
        #expect(copies[1] == 3)
        #expect(copies.filter { $0.key > 1 }.values.allSatisfy { $0 <= 2 }, "\(copies)")
        #expect(cluster.session.result.unforwarded.isEmpty)
        #expect(lookups.allSatisfy { $0.parent & 0xffff_ffff == 0xc0ffee && $0.view == 1 })
        #expect(cluster.closes == 0 && cluster.connects == 3)
    }

    /// The cluster stops committing at 5.5 s: the check sent at 6 s fails at 7 s (its timeout); the request goes on to
    /// every replica every quarter of the timeout. Commits resume at 9.2 s: seen at the next sending, 9.25 s.
    @Test func aClusterThatStopsCommittingFailsWithinATimeoutAndRecoversAtOnce() {
        var cluster = SimulatedCluster()
        cluster.run(until: 5_500 * ms)
        cluster.commits = false
        cluster.run(until: 9_200 * ms)
        #expect(cluster.session.result.state == .failing)
        #expect(cluster.session.result.error == "no reply to lookup_accounts within 1s")
        #expect(cluster.session.result.failures == ["timeout": 1])
        #expect(cluster.session.result.failingSince == at(7 * second))
        let resent = cluster.sent.filter { $0.at > 6 * second && $0.bytes[114] == CanaryRequest.command }
        #expect(Set(resent.map(\.replica)) == [0, 1, 2], "sent again to every replica")
        #expect(Set(resent.map { ReplicaReplies.readRequest($0.bytes).request }).count == 1, "the same request")
        cluster.commits = true
        cluster.run(until: 10 * second)
        #expect(cluster.states.map(\.1) == [.starting, .committing, .failing, .committing])
        // The register's first reply is a backup's copy (the primary's connection was not open yet when it committed);
        // the recovery is seen at the first sending after it, a quarter of the timeout at most (9.25 s).
        #expect(cluster.states.map(\.0) == [.zero, 40 * ms, 7 * second, 9_252 * ms])
        #expect(cluster.session.result.commits == 8)
    }

    /// Cut off from two of three replicas (connects time out) while the cluster commits: the canary commits through
    /// the one it reaches, the primary or a backup that forwards to it.
    @Test(arguments: [[0, 2], [1, 2]])
    func cutOffFromTwoReplicasItStillCommitsThroughTheThird(cut: [Int]) {
        var cluster = SimulatedCluster()
        for r in cut { cluster.reachable[r] = false }
        cluster.run(until: 10 * second + ms)
        #expect(cluster.session.result.state == .committing)
        #expect(cluster.session.result.commits >= 9)
        #expect(cluster.states.map(\.1) == [.starting, .committing])
    }

    /// Replica 2 cut off from its peers (it answers pings; what it is sent goes nowhere): the lookup sent through it
    /// goes unanswered until it is sent to every replica at half the timeout, and the cluster commits it then. Replica 2
    /// is named within a round of checks (3 s here), and cleared once a request through it gets through again.
    @Test func aBackupThatCannotReachItsPrimaryIsNamedWithinARound() {
        var cluster = SimulatedCluster()
        cluster.run(until: 3 * second + 5 * ms)
        cluster.isolated = [2]
        let cut = cluster.now
        cluster.run(until: 8 * second)
        let named = cluster.session.result.unforwarded
        #expect(named.map(\.replica) == [2])
        let bound: Duration = .milliseconds(3_500)
        #expect(named.first.map { $0.since - at(cut) <= bound } == true, "\(named)")
        #expect(cluster.states.map(\.1) == [.starting, .committing], "the cluster commits throughout")
        cluster.isolated = []
        cluster.run(until: 12 * second)
        #expect(cluster.session.result.unforwarded.isEmpty)
    }

    /// One failed check through a backup is a transient (a backup still recovering when its cluster restarted failed
    /// one, live): checked again at once, it gets through, and it is never named.
    @Test func aSingleFailedCheckIsNotIsolation() {
        var cluster = SimulatedCluster()
        cluster.run(until: 3 * second + 5 * ms)
        cluster.isolated = [2]
        // Until one lookup has gone through replica 2 alone and its half timeout has passed.
        var step = cluster.now
        while !cluster.sent.contains(where: { $0.at > 3 * second && $0.replica == 2 && $0.bytes[114] == CanaryRequest.command }) {
            step += 10 * ms
            cluster.run(until: step)
        }
        cluster.run(until: cluster.now + 600 * ms)
        cluster.isolated = []
        var named = false
        for _ in 0..<100 {
            cluster.run(until: cluster.now + 100 * ms)
            named = named || !cluster.session.result.unforwarded.isEmpty
        }
        #expect(!named)
        #expect(cluster.states.map(\.1) == [.starting, .committing])
    }

    /// A request through replica 2 that its host has not even acknowledged (a lossy path) says nothing of replica 2
    /// reaching its primary: not counted.
    @Test func anUnacknowledgedRequestDoesNotCountAgainstTheBackup() {
        var cluster = SimulatedCluster()
        cluster.run(until: 3 * second + 5 * ms)
        cluster.isolated = [2]
        cluster.unacknowledged = [2]
        cluster.run(until: 9 * second)
        #expect(cluster.session.result.unforwarded.isEmpty)
        #expect(cluster.states.map(\.1) == [.starting, .committing])
    }

    /// The cluster evicts the canary's session (newer clients took the 64 sessions): evicted, every connection closed,
    /// and nothing sent again, ever (it must not take an application's session).
    @Test func anEvictedCanaryStopsForGood() {
        var cluster = SimulatedCluster()
        cluster.run(until: 3_500 * ms)
        cluster.sessionKept = false
        cluster.run(until: 4_500 * ms)
        #expect(cluster.session.result.state == .evicted)
        #expect(cluster.session.result.error?.contains("evicted") == true)
        let sentBefore = cluster.sent.count
        #expect(cluster.closes == 3)
        cluster.run(until: 600 * second)
        #expect(cluster.sent.count == sentBefore)
        #expect(cluster.connects == 3)
        #expect(cluster.session.nextDeadline == .distantFuture)
    }

    /// A replica (or something on its port) sending replies that answer nothing: up to eight between two answers are
    /// ignored (copies of a reply are normal), more close the connection, which is opened again after a backoff; the
    /// canary goes on committing.
    @Test func aFloodOfStrayRepliesClosesTheConnection() {
        var cluster = SimulatedCluster()
        cluster.backupCopies = false
        cluster.strayMessagesPerReply = 70
        cluster.run(until: 20 * second)
        #expect(cluster.closes >= 2)
        #expect(cluster.session.result.failures["protocol"] ?? 0 >= 2)
        #expect(cluster.session.lastRefusal == "replica 2: more than 64 copies of replies already taken")
        #expect(cluster.states.map(\.1) == [.starting, .committing])
    }

    /// Bytes that are no TigerBeetle message close the connection; the session stays bounded (no buffer growth).
    @Test func garbageClosesTheConnection() {
        var session = CanarySession(
            cluster: cluster, client: ClientID(9)!, replicaCount: 1,
            timing: CanaryTiming(interval: second, timeout: second, defaultRelease: release), start: .zero)
        #expect(session.tick(now: .zero) == [.connect(replica: 0)])
        _ = session.connected(0, now: .zero)
        let commands = session.received(0, [UInt8](repeating: 0xab, count: 300)[...], now: at(ms))
        #expect(commands == [.close(replica: 0)])
        #expect(session.connections[0].buffer.isEmpty)
    }

    /// Whatever happens, only `ping_client`, `register` and `lookup_accounts` leave, each checksummed.
    @Test func onlyPingsRegistersAndLookupsLeave() {
        var cluster = SimulatedCluster()
        cluster.run(until: 3 * second)
        cluster.commits = false
        cluster.reachable[1] = false
        cluster.run(until: 8 * second)
        cluster.commits = true
        cluster.run(until: 12 * second)
        #expect(!cluster.sent.isEmpty)
        for message in cluster.sent {
            switch message.bytes[114] {
            case PingClient.command:
                #expect(message.bytes.count == 256)
            case CanaryRequest.command:
                let request = ReplicaReplies.readRequest(message.bytes)
                #expect(request.checksumsValid)
                #expect([CanaryRequest.registerOperation, CanaryRequest.lookupAccountsOperation].contains(request.operation))
            default:
                Issue.record("command \(message.bytes[114]) left the canary")
            }
        }
    }
}
