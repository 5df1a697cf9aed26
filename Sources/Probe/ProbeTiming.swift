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
    /// Pings remembered for matching late pongs.
    static let maxInFlight = 16

    public init(mode: ProbeMode = .vsr, interval: Duration, timeout: Duration, defaultRelease: Release) {
        self.mode = mode
        self.interval = interval
        self.timeout = timeout
        self.defaultRelease = defaultRelease
    }
}
