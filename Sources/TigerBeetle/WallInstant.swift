/// A point on the wall clock (CLOCK_REALTIME): nanoseconds since the Unix epoch. What the pure modules take as `now`,
/// and every time they keep (when a line arrived, when a result was confirmed, when an alert fired); the documents write
/// it as Unix seconds (`unixSeconds`) or RFC 3339. It never mixes with `MonotonicInstant`: the prober's sessions run on
/// the monotonic clock, and their results are moved to this one in one place (`WallClockOffset`).
///
/// Arithmetic policy:
/// - an instant plus or minus a `Duration` saturates at the ends of the range: the duration may be configured or
///   received (absurd: "never"), and the instant decoded from a document (`init(unixSeconds:)`), so the result is a
///   time that never comes, not a trap;
/// - the difference of two instants saturates for the same reason (an instant decoded from a document), and may be
///   negative: the wall clock may jump back, and an earlier reading then comes after a later one. That is not an error;
///   a caller compares the difference with a `Duration`, as it would a positive one;
/// - where a result is impossible by construction (an instant moved from the monotonic clock with the offset between
///   two readings of the clocks: `WallClockOffset`), the arithmetic is checked: a result out of range is a defect, and
///   traps (`precondition`).
///
/// Not `ExpressibleByIntegerLiteral`: a raw number does not become a time without saying which clock and unit.
public struct WallInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds since 1970-01-01T00:00:00Z (negative before it).
    public var nanosecondsSinceEpoch: Int64

    @inlinable
    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// The instant `seconds` (Unix seconds, as beetlewatch's documents write times) stand for, to the nanosecond
    /// (rounded); nil for a value no time can have (NaN, infinite, or beyond Int64 nanoseconds: years before 1678 or
    /// after 2262). For decoding documents: what a document says is not trusted to be a time.
    @inlinable
    public init?(unixSeconds seconds: Double) {
        guard let nanoseconds = Int64(exactly: (seconds * 1e9).rounded()) else { return nil }
        self.nanosecondsSinceEpoch = nanoseconds
    }

    /// The Unix epoch, 1970-01-01T00:00:00Z: "never" where a time is not known (a replica not heard from yet).
    public static let epoch = WallInstant(nanosecondsSinceEpoch: 0)

    /// Unix seconds, as the documents (`/api/v1/status`, the JSON the CLI reads) and Prometheus's `_timestamp_seconds`
    /// write times: the nanoseconds divided by 1e9.
    @inlinable
    public var unixSeconds: Double { Double(nanosecondsSinceEpoch) / 1e9 }

    @inlinable
    public static func < (a: WallInstant, b: WallInstant) -> Bool { a.nanosecondsSinceEpoch < b.nanosecondsSinceEpoch }

    /// Saturating: the duration may be configured or received, the instant decoded from a document.
    @inlinable
    public static func + (instant: WallInstant, duration: Duration) -> WallInstant {
        WallInstant(nanosecondsSinceEpoch: instant.nanosecondsSinceEpoch.addingSaturating(duration.nanoseconds))
    }

    /// Saturating: the duration may be configured or received, the instant decoded from a document.
    @inlinable
    public static func - (instant: WallInstant, duration: Duration) -> WallInstant {
        WallInstant(nanosecondsSinceEpoch: instant.nanosecondsSinceEpoch.subtractingSaturating(duration.nanoseconds))
    }

    @inlinable
    public static func += (instant: inout WallInstant, duration: Duration) { instant = instant + duration }

    /// How long from `b` to `a`; negative when `a` is earlier (the wall clock jumped back between the two readings: not
    /// an error). Saturating at Int64 nanoseconds (about 292 years either way): either instant may have been decoded
    /// from a document.
    @inlinable
    public static func - (a: WallInstant, b: WallInstant) -> Duration {
        .nanoseconds(a.nanosecondsSinceEpoch.subtractingSaturating(b.nanosecondsSinceEpoch))
    }
}
