/// A point on the monotonic clock, which never jumps: deadlines and intervals. Wall-clock time (what the pure
/// modules take as `now`) is a `WallInstant` and never mixes with it (`WallClockOffset` moves an instant across, in one
/// place). Arithmetic saturates: an instant plus a configured or received duration may be absurd (a deadline "never"),
/// never a trap.
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds since an arbitrary start (boot, or a virtual clock's zero).
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// Later than every deadline: "until signalled".
    public static let distantFuture = MonotonicInstant(nanoseconds: .max)

    /// The clock's zero (a virtual clock's start).
    public static let zero = MonotonicInstant(nanoseconds: 0)

    public static func < (a: MonotonicInstant, b: MonotonicInstant) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func - (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: instant.nanoseconds.subtractingSaturating(duration.nanoseconds))
    }

    public static func += (instant: inout MonotonicInstant, duration: Duration) { instant = instant + duration }

    /// Saturating: a deadline far in the future stays the distant future.
    public static func + (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: instant.nanoseconds.addingSaturating(duration.nanoseconds))
    }

    public static func - (a: MonotonicInstant, b: MonotonicInstant) -> Duration {
        .nanoseconds(a.nanoseconds.subtractingSaturating(b.nanoseconds))
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at Int64's range (no trap for any duration).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow || carry { return seconds < 0 ? .min : .max }
        return sum
    }

    /// Seconds as a Double (for APIs that take one, logs and benchmarks).
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
