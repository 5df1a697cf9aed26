import TigerBeetle
import VSR

/// How a replica is asked whether it is alive.
public enum ProbeMode: String, Sendable, CaseIterable {
    /// A `ping_client` every interval on a kept-open connection, answered by the replica's event loop.
    case vsr
    /// A TCP connect, then close: proves only that the kernel accepts connections.
    case tcp
}

/// The probe's settings.
public struct ProbeTiming: Sendable, Equatable {
    public var mode: ProbeMode
    public var interval: Duration
    /// How long a connect, or a pong, may take.
    public var timeout: Duration
    /// The release pinged with until the replica's own is known (from its pong or its StatsD).
    public var defaultRelease: Release

    /// Reconnecting after the replica closed a young connection waits 1 s, doubling to this.
    public static let maxBackoff: Duration = .seconds(10)
    static let minBackoff: Duration = .seconds(1)
    /// Consecutive unanswered pings after which a connected replica is hung.
    public static let missedPingsForHung = 2
    /// How long a path that lost segments, or delivered a pong after its ping had timed out, is remembered as one that may
    /// hold answers back: for that long, hung is confirmed on a fresh connection (see `ProbeSession.pathFaultyLately`).
    public static let latePongMemory: Duration = .seconds(60)
    /// Pings remembered for matching late pongs: every ping a connection can have outstanding, from its last pong to the
    /// fresh connect hung ends in (`maxBackoff`) and two more (at least 16; 102 at the shortest interval, 100 ms). With 16
    /// at any interval, a replica stopped for 8 s and continued answered 32 pings at 250 ms, the oldest forgotten: its
    /// pongs answered no ping it knew, and it read unreachable for a second (live, issue 26).
    var maxInFlight: Int {
        let intervals = (Self.maxBackoff / max(interval, .milliseconds(1))).rounded(.up)
        return max(16, Int(min(intervals, 100_000)) + 2)
    }

    public init(mode: ProbeMode = .vsr, interval: Duration, timeout: Duration, defaultRelease: Release) {
        self.mode = mode
        self.interval = interval
        self.timeout = timeout
        self.defaultRelease = defaultRelease
    }
}
