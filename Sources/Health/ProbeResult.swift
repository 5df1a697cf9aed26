/// What beetlewatch's own probe of a replica last found: a TCP connect (`--probe.mode tcp`), or a
/// `ping_client` answered with `pong_client` on a kept-open connection (`vsr`).
public struct ProbeResult: Sendable, Equatable, Codable {
    /// What the probe found, in order of how alive the replica is.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// Its event loop answered the last ping (vsr mode).
        case answering
        /// The primary answered with an eviction: the replica runs, but refuses the release pinged with.
        case evicted
        /// The TCP connect succeeded (tcp mode: says nothing about the replica's event loop).
        case connected
        /// The connection is open but consecutive pings went unanswered: the process is stopped or stuck.
        case hung
        /// The connect was refused, timed out, or the name did not resolve.
        case unreachable
    }

    public var outcome: Outcome
    /// Whether the replica is reachable and, in vsr mode, its event loop runs (`answering`, `evicted`, `connected`).
    public var success: Bool
    /// The last round trip: ping to pong (vsr), or name resolution to connect (tcp); seconds.
    public var durationSeconds: Double
    /// When this result was last confirmed (ns since the epoch): a result older than the probe
    /// interval plus its timeout says nothing about now.
    public var at: Int64
    /// Why it is not answering: "connection refused", "no pong to the last 2 pings", ...
    public var error: String?
    /// Since when the replica has been reachable without a break (ns since the epoch); nil while unreachable.
    public var reachableSince: Int64?
    /// The view its last pong carried (its durable log view).
    public var view: UInt32?
    /// The release its last pong carried, `0.17.9`.
    public var release: String?
    /// Round trips measured since the probe started (for a summary: sum in seconds, and count).
    public var roundTripSumSeconds: Double
    public var roundTrips: UInt64

    public init(success: Bool, durationSeconds: Double, at: Int64, error: String? = nil) {
        self.init(outcome: success ? .connected : .unreachable, durationSeconds: durationSeconds, at: at, error: error,
                  reachableSince: success ? at : nil)
    }

    public init(outcome: Outcome, durationSeconds: Double, at: Int64, error: String? = nil, reachableSince: Int64? = nil,
                view: UInt32? = nil, release: String? = nil, roundTripSumSeconds: Double = 0, roundTrips: UInt64 = 0) {
        self.outcome = outcome
        self.success = outcome == .answering || outcome == .evicted || outcome == .connected
        self.durationSeconds = durationSeconds
        self.at = at
        self.error = error
        self.reachableSince = reachableSince
        self.view = view
        self.release = release
        self.roundTripSumSeconds = roundTripSumSeconds
        self.roundTrips = roundTrips
    }
}
