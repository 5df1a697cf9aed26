import TigerBeetle

/// What beetlewatch's own probe of a replica last found: a TCP connect (`--probe.mode tcp`), or a
/// `ping_client` answered with `pong_client` on a kept-open connection (`vsr`).
///
/// `Instant` is the clock its times are on, so no field means two clocks: a probe session keeps its findings on the
/// monotonic clock (`ProbeFindings<MonotonicInstant>`), and the prober publishes them on the wall clock
/// (`ProbeResult`, what health reads and `/api/v1/status` carries), moved in one place (`ProbeLoop.publish`).
public struct ProbeFindings<Instant: Comparable & Sendable>: Sendable, Equatable {
    /// What the probe found, in order of how alive the replica is.
    public typealias Outcome = ProbeOutcome
    /// What failed, when unreachable: what was tried and what answered.
    public typealias Failure = ProbeFailure

    public var outcome: Outcome
    /// The last round trip: ping to pong (vsr), or name resolution to connect (tcp); seconds.
    public var durationSeconds: Double
    /// When this result was last confirmed: a result older than the probe
    /// interval plus its timeout says nothing about now.
    public var at: Instant
    /// Why it is not answering: "connection refused", "no pong to the last 2 pings", ...
    public var error: String?
    /// Since when the replica has been reachable (tcp) or answering (vsr) without a break; nil while
    /// unreachable or hung. Silence is counted from here: a replica cannot send StatsD before it runs.
    public var reachableSince: Instant?
    /// When its last pong came (vsr mode): when its event loop last answered. `at` moves on while a ping is out and not
    /// yet missed; this does not (a replica stopped a moment ago answered nothing since).
    public var answeredAt: Instant?
    /// The view its last pong carried (its durable log view).
    public var view: UInt32?
    /// The release its last pong carried, `0.17.9`.
    public var release: String?
    /// Round trips measured since the probe started (for a summary: sum in seconds, and count).
    public var roundTripSumSeconds: Double
    public var roundTrips: UInt64
    /// Whether the replica has ever been reachable (tcp) or answered (vsr) since beetlewatch started.
    public var everReachable: Bool

    /// What failed, when unreachable (nil otherwise, or when not known).
    public var failure: Failure?
    /// Whether nothing answered at all (a connect without an answer, pings its host never acknowledged): beetlewatch's
    /// own network explains that as well as the replica being down.
    public var unanswered: Bool { outcome == .unreachable && (failure == .connect || failure == .path) }

    /// A tcp-mode result.
    public init(success: Bool, durationSeconds: Double, at: Instant, error: String? = nil, reachableSince: Instant? = nil) {
        self.init(
            outcome: success ? .connected : .unreachable, durationSeconds: durationSeconds, at: at, error: error,
            reachableSince: success ? reachableSince ?? at : nil)
    }

    /// Whether the replica is reachable and, in vsr mode, its event loop runs (`answering`, `evicted`, `connected`).
    /// Setting it makes a tcp-mode outcome.
    public var success: Bool {
        get { outcome == .answering || outcome == .evicted || outcome == .connected }
        set { outcome = newValue ? .connected : .unreachable }
    }

    public init(
        outcome: Outcome, durationSeconds: Double, at: Instant, error: String? = nil, reachableSince: Instant? = nil,
        view: UInt32? = nil, release: String? = nil, roundTripSumSeconds: Double = 0, roundTrips: UInt64 = 0,
        everReachable: Bool? = nil, failure: Failure? = nil
    ) {
        self.failure = failure
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.at = at
        self.error = error
        self.reachableSince = reachableSince
        self.view = view
        self.release = release
        self.roundTripSumSeconds = roundTripSumSeconds
        self.roundTrips = roundTrips
        self.everReachable = everReachable ?? (reachableSince != nil || outcome == .hung || outcome == .evicted)
    }

    enum CodingKeys: String, CodingKey {
        case outcome, success, durationSeconds, at, error, reachableSince, view, release, roundTripSumSeconds, roundTrips, everReachable
        case failure, answeredAt
    }

    /// The same findings with every time moved to another clock (`convert`): a session's, published on the wall clock.
    public func mapInstants<Other>(_ convert: (Instant) -> Other) -> ProbeFindings<Other> {
        var moved = ProbeFindings<Other>(
            outcome: outcome, durationSeconds: durationSeconds, at: convert(at), error: error, reachableSince: reachableSince.map(convert),
            view: view, release: release, roundTripSumSeconds: roundTripSumSeconds, roundTrips: roundTrips, everReachable: everReachable,
            failure: failure)
        moved.answeredAt = answeredAt.map(convert)
        return moved
    }
}

/// A probe's findings on the wall clock: what health reads, and what `/api/v1/status` carries (times in Unix seconds).
public typealias ProbeResult = ProbeFindings<WallInstant>

/// What a probe found, in order of how alive the replica is.
public enum ProbeOutcome: String, Sendable, Codable, CaseIterable {
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

/// What failed, when unreachable: what was tried and what answered.
public enum ProbeFailure: String, Sendable, Codable {
    /// The connect was refused or reset: the replica's host answered that nothing listens.
    case refused
    /// The connect got no answer (timed out, no route) or the name did not resolve.
    case connect
    /// The replica closed an open connection (a wrong cluster id, a full client table, a restart).
    case closed
    /// It sent something that is not a TigerBeetle reply for this cluster.
    case reply
    /// It answers as another replica than the address is configured for.
    case wrongReplica
    /// Pings went unanswered and its host did not acknowledge them: the network path, as much as the replica.
    case path
}

extension ProbeFindings: Codable where Instant == WallInstant {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            outcome: try c.decode(Outcome.self, forKey: .outcome), durationSeconds: try c.decode(Double.self, forKey: .durationSeconds),
            at: try UnixSeconds.instant(c.decode(Double.self, forKey: .at), c, .at),
            error: try c.decodeIfPresent(String.self, forKey: .error),
            reachableSince: try c.decodeIfPresent(Double.self, forKey: .reachableSince).map {
                try UnixSeconds.instant($0, c, .reachableSince)
            },
            view: try c.decodeIfPresent(UInt32.self, forKey: .view),
            release: try c.decodeIfPresent(String.self, forKey: .release),
            roundTripSumSeconds: try c.decodeIfPresent(Double.self, forKey: .roundTripSumSeconds) ?? 0,
            roundTrips: try c.decodeIfPresent(UInt64.self, forKey: .roundTrips) ?? 0,
            everReachable: try c.decodeIfPresent(Bool.self, forKey: .everReachable))
        failure = try c.decodeIfPresent(Failure.self, forKey: .failure)
        answeredAt = try c.decodeIfPresent(Double.self, forKey: .answeredAt).map { try UnixSeconds.instant($0, c, .answeredAt) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(success, forKey: .success)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        // Times in the JSON are Unix seconds, as everywhere in beetlewatch's documents (`lastSeen`, `generatedAt`).
        try c.encode(at.unixSeconds, forKey: .at)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(reachableSince?.unixSeconds, forKey: .reachableSince)
        try c.encodeIfPresent(view, forKey: .view)
        try c.encodeIfPresent(release, forKey: .release)
        try c.encode(roundTripSumSeconds, forKey: .roundTripSumSeconds)
        try c.encode(roundTrips, forKey: .roundTrips)
        try c.encode(everReachable, forKey: .everReachable)
        try c.encodeIfPresent(failure, forKey: .failure)
        try c.encodeIfPresent(answeredAt?.unixSeconds, forKey: .answeredAt)
    }
}
