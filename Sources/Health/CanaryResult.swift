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
    /// Checks that failed, by reason (`timeout`, `evicted`, `no_connection`).
    public var failures: [String: UInt64] = [:]
    /// The view of the last reply or pong, and the primary it implies.
    public var view: UInt32?

    public init(state: State, at: Int64, error: String? = nil) {
        self.state = state
        self.at = at
        self.error = error
    }

    /// Whether the cluster is known to commit now.
    public var committing: Bool { state == .committing }
}
