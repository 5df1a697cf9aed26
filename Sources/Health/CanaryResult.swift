/// What a watched cluster's canary last found: whether the cluster commits a request (a `lookup_accounts` of one fixed
/// id, prepared through consensus like every request), how long it took, and why it does not when it does not.
public struct CanaryResult: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Not registered yet, or no request has been answered or timed out yet: nothing known.
        case starting
        /// The last request committed within the timeout.
        case committing
        /// The request in flight has had no reply for longer than the timeout (or none could be sent).
        case failing
        /// The cluster evicted the canary's session: it stays stopped until told (a reload), so as never to take an
        /// application's session.
        case evicted
    }

    public var state: State
    /// When this result was last confirmed (ns; the session's clock inside the canary, the wall clock once published).
    public var at: Int64
    /// Why it is failing or evicted.
    public var error: String?
    /// When the cluster last committed the canary's request (ns), if it has.
    public var lastCommitAt: Int64?
    /// Since when it has been failing (ns).
    public var failingSince: Int64?
    /// The last commit's latency, request sent to reply received, seconds.
    public var lastLatencySeconds: Double?
    /// Every commit since the canary started: a summary's sum (seconds) and count.
    public var latencySumSeconds: Double = 0
    public var commits: UInt64 = 0
    /// Checks that failed, by reason (`failureReasons`).
    public var failures: [String: UInt64] = [:]
    /// Every reason a check fails for: no reply within the timeout, no connection to send on, the session evicted, and
    /// a connection closed for what it sent.
    public static let failureReasons = ["timeout", "no_connection", "evicted", "protocol"]
    /// The view of the last reply or pong, and the primary it implies.
    public var view: UInt32?
    /// Replicas a request sent through them alone did not get to the primary (no reply before it went to every
    /// replica), and since when: a backup that cannot reach its primary. Cleared when one does.
    public var unforwarded: [Unforwarded] = []

    public struct Unforwarded: Sendable, Equatable, Codable {
        public var replica: Int
        /// ns; Unix seconds in the JSON.
        public var since: Int64

        public init(replica: Int, since: Int64) {
            self.replica = replica
            self.since = since
        }

        enum CodingKeys: String, CodingKey { case replica, since }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(replica, forKey: .replica)
            try c.encode(Double(since) / 1e9, forKey: .since)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            replica = try c.decode(Int.self, forKey: .replica)
            since = try UnixSeconds.nanoseconds(c.decode(Double.self, forKey: .since), c, .since)
        }
    }

    public init(state: State, at: Int64, error: String? = nil) {
        self.state = state
        self.at = at
        self.error = error
    }

    /// Whether the cluster is known to commit now.
    public var committing: Bool { state == .committing }

    enum CodingKeys: String, CodingKey {
        case state, at, error, lastCommitAt, failingSince, lastLatencySeconds, latencySumSeconds, commits, failures, view, unforwarded
    }

    /// Times in the JSON are Unix seconds, as everywhere in beetlewatch's documents.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(Double(at) / 1e9, forKey: .at)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(lastCommitAt.map { Double($0) / 1e9 }, forKey: .lastCommitAt)
        try c.encodeIfPresent(failingSince.map { Double($0) / 1e9 }, forKey: .failingSince)
        try c.encodeIfPresent(lastLatencySeconds, forKey: .lastLatencySeconds)
        try c.encode(latencySumSeconds, forKey: .latencySumSeconds)
        try c.encode(commits, forKey: .commits)
        try c.encode(failures, forKey: .failures)
        try c.encodeIfPresent(view, forKey: .view)
        try c.encode(unforwarded, forKey: .unforwarded)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func nanoseconds(_ key: CodingKeys) throws -> Int64? {
            try c.decodeIfPresent(Double.self, forKey: key).map { try UnixSeconds.nanoseconds($0, c, key) }
        }
        self.init(
            state: try c.decode(State.self, forKey: .state), at: try nanoseconds(.at) ?? 0,
            error: try c.decodeIfPresent(String.self, forKey: .error))
        lastCommitAt = try nanoseconds(.lastCommitAt)
        failingSince = try nanoseconds(.failingSince)
        lastLatencySeconds = try c.decodeIfPresent(Double.self, forKey: .lastLatencySeconds)
        latencySumSeconds = try c.decodeIfPresent(Double.self, forKey: .latencySumSeconds) ?? 0
        commits = try c.decodeIfPresent(UInt64.self, forKey: .commits) ?? 0
        failures = try c.decodeIfPresent([String: UInt64].self, forKey: .failures) ?? [:]
        view = try c.decodeIfPresent(UInt32.self, forKey: .view)
        unforwarded = try c.decodeIfPresent([Unforwarded].self, forKey: .unforwarded) ?? []
    }
}
