import Config
import TigerBeetle

/// A point on the monotonic clock, which never jumps: deadlines and intervals. Wall-clock time (what the pure
/// modules take as `now`) is nanoseconds since the Unix epoch and never mixes with it.
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds since an arbitrary start (boot, or a virtual clock's zero).
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// Later than every deadline: "until signalled".
    public static let distantFuture = MonotonicInstant(nanoseconds: .max)

    public static func < (a: MonotonicInstant, b: MonotonicInstant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Saturating: a deadline far in the future stays the distant future.
    public static func + (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: instant.nanoseconds.addingSaturating(duration.nanoseconds))
    }

    public static func - (a: MonotonicInstant, b: MonotonicInstant) -> Duration {
        .nanoseconds(a.nanoseconds.subtractingSaturating(b.nanoseconds))
    }
}
