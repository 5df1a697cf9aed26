import TigerBeetle

/// What a watched cluster's canary last found: whether the cluster commits a request (a `lookup_accounts` of one fixed
/// id, prepared through consensus like every request), how long it took, and why it does not when it does not.
///
/// `Instant` is the clock its times are on, so no field means two clocks: the canary's session keeps them on the
/// monotonic clock (`CanaryFindings<MonotonicInstant>`), and the prober publishes them on the wall clock
/// (`CanaryResult`, what health reads and `/api/v1/status` carries), moved in one place (`ProbeLoop.publish`).
public struct CanaryFindings<Instant: Comparable & Sendable>: Sendable, Equatable {
    public typealias State = CanaryState

    public var state: State
    /// When this result was last confirmed.
    public var at: Instant
    /// Why it is failing or evicted.
    public var error: String?
    /// When the cluster last committed the canary's request, if it has.
    public var lastCommitAt: Instant?
    /// Since when it has been failing.
    public var failingSince: Instant?
    /// The last commit's latency, request sent to reply received, seconds.
    public var lastLatencySeconds: Double?
    /// Every commit since the canary started: a summary's sum (seconds) and count.
    public var latencySumSeconds: Double = 0
    public var commits: UInt64 = 0
    /// Checks that failed, by reason (`failureReasons`).
    public var failures: [String: UInt64] = [:]
    /// Every reason a check fails for: no reply within the timeout, no connection to send on, the session evicted, and
    /// a connection closed for what it sent.
    public static var failureReasons: [String] { CanaryState.failureReasons }
    /// The view of the last reply or pong, and the primary it implies.
    public var view: UInt32?
    /// Replicas a request sent through them alone did not get to the primary (no reply before it went to every
    /// replica), and since when: a backup that cannot reach its primary. Cleared when one does.
    public var unforwarded: [Unforwarded] = []

    public struct Unforwarded: Sendable, Equatable {
        public var replica: Int
        /// Unix seconds in the JSON.
        public var since: Instant

        public init(replica: Int, since: Instant) {
            self.replica = replica
            self.since = since
        }

        enum CodingKeys: String, CodingKey { case replica, since }
    }

    public init(state: State, at: Instant, error: String? = nil) {
        self.state = state
        self.at = at
        self.error = error
    }

    /// Whether the cluster is known to commit now.
    public var committing: Bool { state == .committing }

    enum CodingKeys: String, CodingKey {
        case state, at, error, lastCommitAt, failingSince, lastLatencySeconds, latencySumSeconds, commits, failures, view, unforwarded
    }

    /// The same findings with every time moved to another clock (`convert`): a session's, published on the wall clock.
    public func mapInstants<Other>(_ convert: (Instant) -> Other) -> CanaryFindings<Other> {
        var moved = CanaryFindings<Other>(state: state, at: convert(at), error: error)
        moved.lastCommitAt = lastCommitAt.map(convert)
        moved.failingSince = failingSince.map(convert)
        moved.lastLatencySeconds = lastLatencySeconds
        moved.latencySumSeconds = latencySumSeconds
        moved.commits = commits
        moved.failures = failures
        moved.view = view
        moved.unforwarded = unforwarded.map { .init(replica: $0.replica, since: convert($0.since)) }
        return moved
    }
}

/// A canary's findings on the wall clock: what health reads, and what `/api/v1/status` carries (times in Unix seconds).
public typealias CanaryResult = CanaryFindings<WallInstant>

/// Where a canary is.
public enum CanaryState: String, Sendable, Codable, CaseIterable {
    /// Not registered yet, or no request has been answered or timed out yet: nothing known.
    case starting
    /// The last request committed within the timeout.
    case committing
    /// The request in flight has had no reply for longer than the timeout (or none could be sent).
    case failing
    /// The cluster evicted the canary's session: it stays stopped until told (a reload), so as never to take an
    /// application's session.
    case evicted

    /// Every reason a check fails for (`CanaryFindings.failureReasons`).
    static let failureReasons = ["timeout", "no_connection", "evicted", "protocol"]
}

extension CanaryFindings.Unforwarded: Codable where Instant == WallInstant {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(replica, forKey: .replica)
        try c.encode(since.unixSeconds, forKey: .since)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        replica = try c.decode(Int.self, forKey: .replica)
        since = try UnixSeconds.instant(c.decode(Double.self, forKey: .since), c, .since)
    }
}

extension CanaryFindings: Codable where Instant == WallInstant {
    /// Times in the JSON are Unix seconds, as everywhere in beetlewatch's documents.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(at.unixSeconds, forKey: .at)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(lastCommitAt?.unixSeconds, forKey: .lastCommitAt)
        try c.encodeIfPresent(failingSince?.unixSeconds, forKey: .failingSince)
        try c.encodeIfPresent(lastLatencySeconds, forKey: .lastLatencySeconds)
        try c.encode(latencySumSeconds, forKey: .latencySumSeconds)
        try c.encode(commits, forKey: .commits)
        try c.encode(failures, forKey: .failures)
        try c.encodeIfPresent(view, forKey: .view)
        try c.encode(unforwarded, forKey: .unforwarded)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func instant(_ key: CodingKeys) throws -> WallInstant? {
            try c.decodeIfPresent(Double.self, forKey: key).map { try UnixSeconds.instant($0, c, key) }
        }
        self.init(
            state: try c.decode(State.self, forKey: .state), at: try instant(.at) ?? .epoch,
            error: try c.decodeIfPresent(String.self, forKey: .error))
        lastCommitAt = try instant(.lastCommitAt)
        failingSince = try instant(.failingSince)
        lastLatencySeconds = try c.decodeIfPresent(Double.self, forKey: .lastLatencySeconds)
        latencySumSeconds = try c.decodeIfPresent(Double.self, forKey: .latencySumSeconds) ?? 0
        commits = try c.decodeIfPresent(UInt64.self, forKey: .commits) ?? 0
        failures = try c.decodeIfPresent([String: UInt64].self, forKey: .failures) ?? [:]
        view = try c.decodeIfPresent(UInt32.self, forKey: .view)
        unforwarded = try c.decodeIfPresent([Unforwarded].self, forKey: .unforwarded) ?? []
    }
}
