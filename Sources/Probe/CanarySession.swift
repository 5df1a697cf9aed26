import Health
import TigerBeetle
import VSR

/// The canary's settings.
public struct CanaryTiming: Sendable, Hashable {
    /// How often a request is sent (one prepare each in the cluster's WAL; nothing is written).
    public var interval: Duration
    /// How long a request may go unanswered before the check fails. It stays in flight (sent again to every replica)
    /// until it is answered: a cluster that commits again is seen at once.
    public var timeout: Duration
    /// The release claimed until a replica's own is known.
    public var defaultRelease: Release

    /// Reconnecting after a replica closed a young connection waits 1 s, doubling to 10 s.
    static let minBackoff: Duration = .seconds(1)
    static let maxBackoff: Duration = .seconds(10)
    /// Messages for no request in flight tolerated on one connection between two accepted replies, at least: copies of
    /// a reply are normal (a backup sends one; a request sent to every replica may be answered more than once), a
    /// flood is not. Past it the connection is closed and reopened after the backoff.
    static let minStrayMessages = 8
    /// Copies of replies already taken tolerated on one connection between two accepted replies: as many as the
    /// requests remembered (a backup catching up sends its copies of every op it missed at once).
    static let maxCopies = 64

    public init(interval: Duration, timeout: Duration, defaultRelease: Release) {
        self.interval = interval
        self.timeout = timeout
        self.defaultRelease = defaultRelease
    }
}

/// One watched cluster's canary as a state machine, driven by the prober's loop: the loop reports what happened on each
/// replica's connection (connected, bytes, closed, time passed), the session answers with what to do. Pure: no sockets,
/// `now` (a `MonotonicInstant`) is a parameter.
///
/// As TigerBeetle's own clients do: one client id, a connection to every replica, each opened with a `ping_client` (a
/// replica replies to a client only on a connection the client has spoken on; one pong is expected, any other is a
/// stray); `register` once, then a `lookup_accounts` of `CanaryRequest.accountID` every interval, sent through each
/// replica in turn (the primary of the view the last reply showed, or a backup, which forwards it), and again to every
/// replica when no reply came within half the timeout; a backup whose host acknowledged the request but did not get it
/// to the primary by then, twice in a row, is named (`CanaryFindings.unforwarded`). A reply proves that a quorum committed the request.
/// Replies are matched by the request's checksum (a backup's later copy is ignored). An eviction stops the canary
/// until it is made anew (a reload): it never registers again on its own, so it cannot take an application's session.
public struct CanarySession: Sendable {
    /// What the loop is to do, on replica `replica`'s connection.
    public enum Command: Sendable, Equatable {
        case connect(replica: Int)
        case send(replica: Int, bytes: [UInt8])
        case close(replica: Int)
    }

    enum Link: Sendable, Equatable {
        case idle(nextAttemptAt: MonotonicInstant)
        case connecting(startedAt: MonotonicInstant)
        case open(since: MonotonicInstant)
    }

    struct Connection: Sendable {
        var link: Link
        var buffer: [UInt8] = []
        /// Consecutive connections the replica closed young, for the backoff.
        var closes = 0
        /// Messages for no request in flight since the last reply accepted.
        var strays = 0
        /// Copies of replies already taken, since the last reply accepted.
        var copies = 0
        /// The timestamp of the ping that opened the connection, until its pong came: the one pong expected on it.
        var ping: UInt64?
    }

    enum Phase: Sendable, Equatable {
        case unregistered
        case registered(session: Session, parent: UInt128, nextRequest: UInt32)
        case evicted(EvictionReason)
    }

    struct InFlight: Sendable {
        var bytes: [UInt8]
        var checksum: UInt128
        var registering: Bool
        var sentAt: MonotonicInstant
        var resendAt: MonotonicInstant
        /// Sent on at least one connection.
        var delivered: Bool
        /// Its timeout was counted as a failure.
        var failed = false
        /// Sent through this backup alone (to check that it reaches its primary), until sent to every replica.
        var via: Int?
    }

    public let cluster: UInt128
    public let client: ClientID
    public let replicaCount: Int
    public private(set) var timing: CanaryTiming
    var connections: [Connection]
    private(set) var phase: Phase = .unregistered
    private(set) var inFlight: InFlight?
    private var nextCheckAt: MonotonicInstant
    /// The highest view a reply has shown: its primary is sent to first.
    private(set) var view: UInt32 = 0
    private var previousLatencyMicros: UInt32 = 0
    /// Which replica the next lookup goes through: each in turn, so a backup that cannot reach its primary shows within
    /// a round of checks (a backup forwards a new request to its primary; an isolated one cannot).
    private var rotation = 0
    /// Whether the last reply came on the primary's own connection. Only then does a request sent through one backup
    /// alone test that backup: the primary answers on its own connection, and while that one does not deliver (cut
    /// off from beetlewatch), replies come only from a backup's copy or its client table (measured on 0.17.9).
    private var primaryDelivers = false
    /// Requests answered lately, by checksum: more replies to them are copies (a backup sends one; a backup catching up
    /// sends all of its at once), not strays.
    private var answered: [UInt128] = []
    /// A backup whose last check failed (its host acknowledged the request; it did not reach the primary), since when:
    /// the next check goes through it again, and a second failure in a row names it. One failure alone is a transient
    /// (measured on a live cluster restarting: a backup still recovering failed one check, and was paged isolated).
    private var suspect: (replica: Int, since: MonotonicInstant)?
    /// The release claimed: the replicas' own once the prober knows it (the loop sets it), else the default.
    public var release: Release?
    /// The latest finding, with times on the session's (monotonic) clock.
    public private(set) var result: CanaryFindings<MonotonicInstant>
    /// Why a connection was last closed for what it sent (the loop logs it).
    public private(set) var lastRefusal: String?

    public init(cluster: UInt128, client: ClientID, replicaCount: Int, timing: CanaryTiming, start: MonotonicInstant) {
        precondition(replicaCount > 0 && replicaCount <= 256, "a cluster has 1 to 256 replicas")
        self.cluster = cluster
        self.client = client
        self.replicaCount = replicaCount
        self.timing = timing
        connections = Array(repeating: Connection(link: .idle(nextAttemptAt: start)), count: replicaCount)
        nextCheckAt = start
        result = CanaryFindings(state: .starting, at: start)
    }

    var claimedRelease: Release { release ?? timing.defaultRelease }
    var primary: Int { Int(view % UInt32(replicaCount)) }
    public var isEvicted: Bool { if case .evicted = phase { true } else { false } }

    /// When the session next needs a `tick`.
    public var nextDeadline: MonotonicInstant {
        var deadline = MonotonicInstant.distantFuture
        for connection in connections {
            switch connection.link {
            case .idle(let next): deadline = min(deadline, next)
            case .connecting(let startedAt): deadline = min(deadline, startedAt + timing.timeout)
            case .open: break
            }
        }
        if isEvicted { return deadline }
        if let inFlight {
            deadline = min(deadline, inFlight.resendAt)
            if !inFlight.failed { deadline = min(deadline, inFlight.sentAt + timing.timeout) }
        } else {
            deadline = min(deadline, nextCheckAt)
        }
        return deadline
    }

    /// Takes new settings (a reload); connections and the session stay.
    public mutating func update(_ timing: CanaryTiming) {
        self.timing = timing
    }

    /// The replica a request was sent through alone whose forward check falls due at `now`: the loop reads what the
    /// kernel says of that connection (`PathReport`) for `tick`.
    public func forwardCheckDue(at now: MonotonicInstant) -> Int? {
        guard let request = inFlight, let via = request.via, now >= request.resendAt else { return nil }
        return via
    }

    /// Time passes: opens connections, fails a request past its timeout, sends one again or a new one.
    /// - Parameter viaPath: what the kernel says of the connection to `forwardCheckDue(at:)`'s replica: a request its
    ///   host has not even acknowledged says nothing of its reaching the primary (a lossy path), and is not counted.
    public mutating func tick(now: MonotonicInstant, viaPath: PathReport? = nil) -> [Command] {
        var commands: [Command] = []
        for r in connections.indices {
            switch connections[r].link {
            case .idle(let next) where now >= next && !isEvicted:
                connections[r].link = .connecting(startedAt: now)
                commands.append(.connect(replica: r))
            case .connecting(let startedAt) where now >= startedAt + timing.timeout:
                connections[r].link = .idle(nextAttemptAt: startedAt + timing.interval)
                commands.append(.close(replica: r))
            default:
                break
            }
        }
        guard !isEvicted else { return commands }
        if var request = inFlight {
            if !request.failed && now >= request.sentAt + timing.timeout {
                request.failed = true
                fail(
                    request.delivered ? "timeout" : "no_connection",
                    request.delivered
                        ? "no reply to \(request.registering ? "register" : "lookup_accounts") within \(seconds(timing.timeout))"
                        : "no connection to any replica to send a request on", now: now)
            }
            if now >= request.resendAt {
                // Not answered yet: to every replica (a backup forwards it to its primary). Sent through one backup
                // alone, it did not get through: that backup does not reach its primary.
                if let via = request.via {
                    let delivered = viaPath?.allAcknowledged ?? true
                    if delivered, let first = suspect, first.replica == via {
                        if !result.unforwarded.contains(where: { $0.replica == via }) {
                            result.unforwarded.append(.init(replica: via, since: first.since))
                        }
                    } else if delivered {
                        suspect = (via, now)
                    }
                    result.at = now
                    request.via = nil
                }
                // Again every quarter of the timeout until answered: a backup that has committed it answers a duplicate
                // from its client table at once, whoever's connection the first reply was lost on.
                request.resendAt = now + resendEvery
                if !request.registering { primaryDelivers = false }
                let sent = sendToAll(request.bytes)
                request.delivered = request.delivered || !sent.isEmpty
                commands += sent
            }
            inFlight = request
        } else if now >= nextCheckAt {
            commands += startRequest(now: now)
        }
        return commands
    }

    /// Replica `r`'s connect succeeded: a ping makes the connection the canary's on the replica's side (a replica replies
    /// to a client only on a connection the client has spoken on); a request in flight goes out on it too.
    public mutating func connected(_ r: Int, now: MonotonicInstant) -> [Command] {
        guard connections.indices.contains(r), case .connecting = connections[r].link else { return [] }
        connections[r].link = .open(since: now)
        connections[r].buffer.removeAll(keepingCapacity: true)
        connections[r].strays = 0
        let timestamp = UInt64(max(0, now.nanoseconds))
        connections[r].ping = timestamp
        var commands: [Command] = [
            .send(replica: r, bytes: PingClient.header(cluster: cluster, release: claimedRelease, client: client, timestamp: timestamp))
        ]
        if var request = inFlight, !isEvicted {
            commands.append(.send(replica: r, bytes: request.bytes))
            request.delivered = true
            inFlight = request
        }
        return commands
    }

    /// Replica `r`'s connect failed: tried again an interval later. (Whether the replica is reachable is the probe's to
    /// judge; the canary asks whichever replicas it can reach.)
    public mutating func connectFailed(_ r: Int, now: MonotonicInstant) {
        guard connections.indices.contains(r), case .connecting(let startedAt) = connections[r].link else { return }
        connections[r].link = .idle(nextAttemptAt: startedAt + timing.interval)
    }

    /// Replica `r` closed the connection, or writing to it failed.
    public mutating func closed(_ r: Int, now: MonotonicInstant) {
        guard connections.indices.contains(r), case .open(let since) = connections[r].link else { return }
        let settled = now - since >= CanaryTiming.maxBackoff
        connections[r].closes = settled ? 0 : connections[r].closes + 1
        reopen(r, now: now)
    }

    /// Bytes from replica `r`: pongs, replies and evictions, framed by their size.
    public mutating func received(_ r: Int, _ bytes: ArraySlice<UInt8>, now: MonotonicInstant) -> [Command] {
        guard connections.indices.contains(r), case .open = connections[r].link else { return [] }
        connections[r].buffer += bytes
        var commands: [Command] = []
        while connections[r].buffer.count >= PingClient.headerSize {
            let size: Int
            switch CanaryReply.size(ofHeader: Array(connections[r].buffer.prefix(PingClient.headerSize))) {
            case .success(let n): size = n
            case .failure(let error): return commands + refuse(r, "not a TigerBeetle message: \(error)", now: now)
            }
            guard connections[r].buffer.count >= size else { break }
            let message = Array(connections[r].buffer.prefix(size))
            connections[r].buffer.removeFirst(size)
            commands += handle(message, from: r, now: now)
            guard case .open = connections[r].link else { break }
        }
        return commands
    }

    // MARK: Inside

    private mutating func handle(_ message: [UInt8], from r: Int, now: MonotonicInstant) -> [Command] {
        if CanaryReply.command(of: message) == ReplicaReply.pongCommand {
            guard case .success(.pong(_, _, _, let timestamp)) = ReplicaReply.decode(message, cluster: cluster) else {
                return refuse(r, "not a pong this client can believe", now: now)
            }
            // One pong is expected, answering the ping that opened the connection (it made the connection the canary's
            // on the replica's side); any other is a stray. Its view is not taken: a reply's is, a request having been
            // committed in it, where a pong is any listener's word.
            guard connections[r].ping == timestamp else { return stray(r, now: now) }
            connections[r].ping = nil
            return []
        }
        switch CanaryReply.decode(message, cluster: cluster, client: client) {
        case .failure(let error):
            return refuse(r, "not a reply this client can believe: \(error)", now: now)
        case .success(.evicted(let reason)):
            return evict(reason, now: now)
        case .success(.registered(let reply, _, _)) where answered.contains(reply.requestChecksum),
            .success(.lookedUp(let reply, _)) where answered.contains(reply.requestChecksum):
            // A copy of a reply already taken: a backup's (one catching up sends all of its at once), or one answering a
            // request sent again. Many are a replay.
            connections[r].copies += 1
            guard connections[r].copies > CanaryTiming.maxCopies else { return [] }
            return refuse(r, "more than \(CanaryTiming.maxCopies) copies of replies already taken", now: now)
        case .success(.registered(let reply, let session, _)):
            guard accept(reply, registering: true, from: r) else { return stray(r, now: now) }
            phase = .registered(session: session, parent: reply.context, nextRequest: 1)
            committed(reply, now: now)
            return []
        case .success(.lookedUp(let reply, _)):
            guard accept(reply, registering: false, from: r), case .registered(let session, _, let request) = phase else {
                return stray(r, now: now)
            }
            let (next, wrapped) = request.addingReportingOverflow(1)
            // 2^32 requests later (136 years at one a second), a new session.
            phase = wrapped ? .unregistered : .registered(session: session, parent: reply.context, nextRequest: next)
            committed(reply, now: now)
            return []
        }
    }

    /// Whether `reply` answers the request in flight (its checksum), of the kind expected.
    private mutating func accept(_ reply: CanaryReply.Reply, registering: Bool, from r: Int) -> Bool {
        guard let request = inFlight, request.checksum == reply.requestChecksum, request.registering == registering else { return false }
        for i in connections.indices {
            connections[i].strays = 0
            connections[i].copies = 0
        }
        primaryDelivers = r == Int(reply.primary)
        answered.append(request.checksum)
        if answered.count > 64 { answered.removeFirst(answered.count - 64) }
        return true
    }

    private mutating func committed(_ reply: CanaryReply.Reply, now: MonotonicInstant) {
        guard let request = inFlight else { return }
        inFlight = nil
        if let via = request.via {
            result.unforwarded.removeAll { $0.replica == via }
            if suspect?.replica == via { suspect = nil }
        }
        view = max(view, reply.view)
        let latency = max(.zero, now - request.sentAt)
        previousLatencyMicros = UInt32(clamping: latency.nanoseconds / 1_000)
        let seconds = latency.seconds
        result.state = .committing
        result.at = now
        result.error = nil
        result.failingSince = nil
        result.lastCommitAt = now
        result.lastLatencySeconds = seconds
        result.latencySumSeconds += seconds
        result.commits &+= 1
        result.view = view
    }

    private mutating func fail(_ reason: String, _ detail: String, now: MonotonicInstant) {
        result.state = .failing
        result.at = now
        result.error = detail
        result.failingSince = result.failingSince ?? now
        result.failures[reason, default: 0] &+= 1
    }

    private mutating func evict(_ reason: EvictionReason, now: MonotonicInstant) -> [Command] {
        phase = .evicted(reason)
        inFlight = nil
        result.state = .evicted
        result.at = now
        result.error = "the cluster evicted the canary's session: \(reason); it stays stopped until beetlewatch reloads"
        result.failures["evicted", default: 0] &+= 1
        var commands: [Command] = []
        for r in connections.indices {
            switch connections[r].link {
            case .open, .connecting: commands.append(.close(replica: r))
            case .idle: break
            }
            connections[r].link = .idle(nextAttemptAt: .distantFuture)
            connections[r].buffer.removeAll()
        }
        return commands
    }

    /// A message for no request in flight: a copy of a reply is one; many are a flood.
    private mutating func stray(_ r: Int, now: MonotonicInstant) -> [Command] {
        connections[r].strays += 1
        guard connections[r].strays > maxStrays else { return [] }
        return refuse(r, "more than \(maxStrays) messages answering nothing", now: now)
    }

    /// Copies of one reply a cluster may send on one connection, and some.
    private var maxStrays: Int { max(CanaryTiming.minStrayMessages, 2 * replicaCount + 2) }

    /// Closes replica `r`'s connection for what it sent, and opens it again after the backoff.
    private mutating func refuse(_ r: Int, _ reason: String, now: MonotonicInstant) -> [Command] {
        lastRefusal = "replica \(r): \(reason)"
        connections[r].closes += 1
        reopen(r, now: now)
        result.failures["protocol", default: 0] &+= 1
        return [.close(replica: r)]
    }

    private mutating func reopen(_ r: Int, now: MonotonicInstant) {
        let closes = connections[r].closes
        let backoff = closes == 0 ? .zero : min(CanaryTiming.maxBackoff, CanaryTiming.minBackoff * (1 << min(closes - 1, 4)))
        connections[r].link = .idle(nextAttemptAt: now + backoff)
        connections[r].buffer.removeAll(keepingCapacity: true)
        connections[r].strays = 0
    }

    private mutating func startRequest(now: MonotonicInstant) -> [Command] {
        nextCheckAt = now + timing.interval
        let bytes: [UInt8]
        let registering: Bool
        switch phase {
        case .evicted:
            return []
        case .unregistered:
            bytes = CanaryRequest.register(cluster: cluster, release: claimedRelease, client: client, view: view)
            registering = true
        case .registered(let session, let parent, let request):
            bytes = CanaryRequest.lookupAccounts(
                cluster: cluster, release: claimedRelease, client: client, view: view, session: session, request: request, parent: parent,
                previousLatency: previousLatencyMicros)
            registering = false
        }
        var request = InFlight(
            bytes: bytes, checksum: CanaryRequest.checksum(of: bytes), registering: registering, sentAt: now,
            resendAt: now + resendEvery, delivered: false)
        // A lookup through one backup alone (each in turn) while the primary's connection delivers: it tests that the
        // backup reaches its primary. Otherwise, as TigerBeetle's own clients do, to the primary of the view it knows and
        // one other replica; to every replica while the primary's connection does not deliver, or neither is open.
        var commands: [Command] = []
        // A suspect backup is checked again at once; otherwise the next in turn.
        rotation = suspect.map { $0.replica } ?? (rotation + 1) % replicaCount
        if !registering, primaryDelivers, rotation != primary, isOpen(rotation) {
            commands = [.send(replica: rotation, bytes: bytes)]
            request.via = rotation
            request.resendAt = now + timing.timeout / 2
        } else {
            // Not a check of the suspect after all: it starts over.
            if !registering { suspect = nil }
            if primaryDelivers {
                for r in Set([primary, rotation == primary ? (primary + 1) % replicaCount : rotation]).sorted() where isOpen(r) {
                    commands.append(.send(replica: r, bytes: bytes))
                }
            }
            // The primary's connection not delivering (cut off from beetlewatch, or not known yet): every replica at once,
            // so the one that reaches the primary forwards it now, and answers it again from its client table.
            if commands.isEmpty { commands = sendToAll(bytes) }
        }
        request.delivered = !commands.isEmpty
        inFlight = request
        return commands
    }

    /// How often a request not yet answered goes to every replica again: a quarter of the timeout (at least 10 ms).
    private var resendEvery: Duration { max(.milliseconds(10), timing.timeout / 4) }

    private func isOpen(_ r: Int) -> Bool {
        if case .open = connections[r].link { return true }
        return false
    }

    private func sendToAll(_ bytes: [UInt8]) -> [Command] {
        connections.indices.compactMap { r in
            if case .open = connections[r].link { return .send(replica: r, bytes: bytes) }
            return nil
        }
    }

    private func seconds(_ duration: Duration) -> String {
        let s = duration.seconds
        return s == s.rounded() ? "\(Int(s))s" : "\(s)s"
    }
}
