import FakeTigerBeetle
import TigerBeetle
import VSR

/// A TigerBeetle cluster as the simulation knows it: the truth the agent is judged against. Each replica's process runs,
/// is stopped (`kill -STOP`) or crashed, and may be cut off from its peers; the cluster commits while its primary and,
/// counting it, a majority take part; a primary that cannot take part is replaced by a view change after
/// `viewChangeDelay` (TigerBeetle's backups measured ~1.5 s), as long as a majority can elect one. It answers the
/// agent's messages as the recorded replicas do (`ReplicaReplies`): a ping with a pong, a canary request through
/// consensus, the primary replying on its own connection from that client and one backup, chosen by the op, sending a
/// copy (0.17.9's routing).
public final class SimulatedCluster {
    public enum Process: String, Sendable { case running, stopped, crashed }

    public struct Replica: Sendable {
        public var process: Process = .running
        /// Cut off from its peers (it still answers clients).
        public var isolated = false
        public var isolatedSince: MonotonicInstant?
        public var view: UInt32
        public var commitMax: UInt64
        /// Syncing state (TigerBeetle's state sync: too far behind to repair, it fetches a checkpoint from its peers):
        /// it takes part, its `commit_max` stays where it was until the sync ends, and its StatsD says the stage.
        public var syncing = false
        /// It has synced in this run: its StatsD carries `replica_sync_stage` from then on (0 once done), as a replica
        /// that has been through a sync does. (Until then the line is not sent: a run without a sync sends what it did
        /// before syncs were simulated, bit for bit.)
        var everSynced = false
        /// The release it runs (its pongs and StatsD say it).
        public var release: Release
    }

    /// What the replica at `index` sends back for one message: replies to deliver on the connection from `client` to
    /// the replica named, or a close of the connection it came on.
    public enum Answer {
        case replies([(replica: Int, bytes: [UInt8])])
        case close
    }

    public static let viewChangeDelay: Duration = .milliseconds(1_500)
    /// How long an isolated replica takes to notice its peers are gone (its TCP connections time out; measured ~17 s).
    public static let peerTimeout: Duration = .seconds(17)
    public let id: UInt128
    /// The release every replica runs at the start.
    public static let startRelease = Release(major: 0, minor: 17, patch: 9)
    public private(set) var replicas: [Replica]
    /// The view the cluster has settled on.
    public private(set) var view: UInt32 = 1
    public private(set) var commit: UInt64 = 1_000
    private var viewChangeAt: MonotonicInstant?
    private var sessions: [UInt128: UInt64] = [:]
    private var replies: [UInt128: [UInt8]] = [:]

    public init(id: UInt128, replicas count: Int) {
        precondition((1...6).contains(count), "a TigerBeetle cluster has 1 to 6 replicas")
        self.id = id
        replicas = Array(repeating: Replica(view: 1, commitMax: 1_000, release: Self.startRelease), count: count)
    }

    public var count: Int { replicas.count }
    public var majority: Int { count / 2 + 1 }
    public var primary: Int { Int(view % UInt32(count)) }

    public func takesPart(_ i: Int) -> Bool { replicas[i].process == .running && !replicas[i].isolated }

    /// The truth the canary is asked to tell: a request reaching a replica that takes part commits now.
    public var commits: Bool {
        viewChangeAt == nil && takesPart(primary) && replicas.indices.filter(takesPart).count >= majority
    }

    // MARK: Faults

    public func set(_ i: Int, process: Process, now: MonotonicInstant) {
        if replicas[i].process == .crashed && process == .running && replicas[i].release < installed { replicas[i].release = installed }
        replicas[i].process = process
        update(now: now)
    }

    public func isolate(_ i: Int, _ isolated: Bool, now: MonotonicInstant) {
        replicas[i].isolated = isolated
        replicas[i].isolatedSince = isolated ? now : nil
        update(now: now)
    }

    public func sync(_ i: Int, _ syncing: Bool, now: MonotonicInstant) {
        replicas[i].syncing = syncing
        if syncing { replicas[i].everSynced = true }
        update(now: now)
    }

    /// A rolling upgrade: replica `i` restarts into the next release (the newest any replica runs, one minor
    /// higher) ahead of the others, which still answer as before. Every release answers pings of 0.16.4 and up
    /// (0.17.9's `release_client_min`), so the agent's 0.17.9 pings are answered by both.
    public func upgrade(_ i: Int) {
        let newest = replicas.map(\.release).max() ?? Self.startRelease
        replicas[i].release = Release(major: newest.major, minor: newest.minor &+ 1, patch: 0)
    }

    /// The upgrade of replica `i` completes: every running replica restarts into its release; one crashed now does at
    /// its restart; one stopped keeps the release its process runs (no process upgrades while stopped).
    public func completeUpgrade(of i: Int) {
        installed = max(installed, replicas[i].release)
        for j in replicas.indices where replicas[j].process == .running && replicas[j].release < installed {
            replicas[j].release = installed
        }
    }

    /// The newest release an upgrade completed with: what a crashed replica restarts into.
    private var installed = SimulatedCluster.startRelease

    /// Whether the replicas run different releases.
    public var releasesDiffer: Bool { Set(replicas.map(\.release)).count > 1 }

    /// Time passes: a view change starts, or ends, and replicas that take part catch up with the cluster.
    public func update(now: MonotonicInstant) {
        let electors = replicas.indices.filter(takesPart)
        if takesPart(primary) || electors.count < majority {
            viewChangeAt = nil
        } else if let at = viewChangeAt {
            if now >= at {
                // The next view whose primary takes part.
                var next = view &+ 1
                while !takesPart(Int(next % UInt32(count))) { next &+= 1 }
                view = next
                viewChangeAt = nil
            }
        } else {
            viewChangeAt = now + Self.viewChangeDelay
        }
        for i in electors where replicas[i].view < view { replicas[i].view = view }
        if commits { for i in electors where !replicas[i].syncing { replicas[i].commitMax = commit } }
    }

    /// When `update` must run next for a view change to end (nil: none under way).
    public var nextChange: MonotonicInstant? { viewChangeAt }

    /// A client's request (the load the ground truth is measured with) commits, if the cluster commits.
    public func commitLoad(now: MonotonicInstant) {
        guard commits else { return }
        commit += 1
        update(now: now)
    }

    // MARK: Messages

    /// One whole message from the agent, read by replica `i` (running) on a connection from `client`.
    public func answer(_ message: [UInt8], at i: Int, now: MonotonicInstant) -> Answer {
        precondition(replicas[i].process == .running, "a replica that does not run reads nothing")
        if message[114] == CanaryRequest.command { return request(message, at: i, now: now) }
        let ping = ReplicaReplies.readPing(message)
        guard message.count == 256, ping.checksumValid, ping.cluster == id else { return .close }
        precondition(ping.command == PingClient.command, "a replica would crash on command \(ping.command)")
        return .replies([
            (
                i,
                ReplicaReplies.pong(
                    cluster: id, replica: UInt8(i), view: replicas[i].view, release: replicas[i].release, timestamp: ping.timestamp)
            )
        ])
    }

    private func request(_ bytes: [UInt8], at i: Int, now: MonotonicInstant) -> Answer {
        let request = ReplicaReplies.readRequest(bytes)
        guard request.checksumsValid, request.cluster == id else { return .close }
        precondition(
            request.operation == CanaryRequest.registerOperation || request.operation == CanaryRequest.lookupAccountsOperation,
            "a replica would crash on operation \(request.operation)")
        // A backup forwards to the primary; one cut off from its peers, or a cluster without quorum, commits nothing.
        guard commits, takesPart(i) else { return .replies([]) }
        if let given = replies[request.checksum] { return .replies([(i, given)]) }
        let primary = self.primary
        if request.operation != CanaryRequest.registerOperation && sessions[request.client] != request.session {
            return .replies([
                (
                    i,
                    ReplicaReplies.eviction(
                        cluster: id, replica: UInt8(primary), view: view, release: request.release, client: request.client, reason: 1)
                )
            ])
        }
        commit += 1
        if request.operation == CanaryRequest.registerOperation { sessions[request.client] = commit }
        let reply = ReplicaReplies.reply(
            to: bytes, cluster: id, primary: UInt8(primary), view: view, commit: commit, context: UInt128(commit) << 64 | 0xc0ffee)
        replies[request.checksum] = reply
        update(now: now)
        var answer: [(replica: Int, bytes: [UInt8])] = [(primary, reply)]
        if count > 1 {
            let backup = (primary + 1 + Int(commit % UInt64(count - 1))) % count
            if takesPart(backup) { answer.append((backup, reply)) }
        }
        return .replies(answer)
    }

    // MARK: StatsD

    /// The StatsD lines replica `i` emits now (TigerBeetle's names and tags; status 0 is normal, 1 a view change).
    public func statsd(_ i: Int, now: MonotonicInstant) -> String {
        let tags = "#cluster:\(ClusterID.hex(id)),replica:\(i)"
        let replica = replicas[i]
        var peers = replicas.indices.filter { $0 != i && replicas[$0].process != .crashed && !replicas[$0].isolated }.count
        if let since = replica.isolatedSince, now - since >= Self.peerTimeout { peers = 0 }
        let status = takesPart(i) && viewChangeAt != nil ? 1 : 0
        let sync = replica.everSynced ? ["tb.replica_sync_stage:\(replica.syncing ? 2 : 0)|g|\(tags)"] : []
        return
            ([
                "tb.replica_status:\(status)|g|\(tags)",
                "tb.replica_view:\(replica.view)|g|\(tags)",
                "tb.replica_commit_max:\(replica.commitMax)|g|\(tags)",
                "tb.message_bus_connections:\(peers)|g|\(tags),peer:replica",
                "tb.release:\(replica.release.packed)|g|\(tags)",
            ] + sync).joined(separator: "\n")
    }
}
