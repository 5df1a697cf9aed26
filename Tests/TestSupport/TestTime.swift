import TigerBeetle

/// Instants written as tests think of them: so many seconds after a zero. Tests only: beetlewatch's own code never
/// makes an instant from a bare number.
extension WallInstant {
    /// `seconds` after the Unix epoch (a test's zero, or a date: `.seconds(1_800_000_000)`).
    public static func seconds<T: BinaryInteger>(_ seconds: T) -> WallInstant { .epoch + .seconds(seconds) }

    /// `seconds` after the Unix epoch, to the nanosecond below.
    public static func seconds(_ seconds: Double) -> WallInstant { WallInstant(nanosecondsSinceEpoch: Int64(seconds * 1e9)) }

    /// `milliseconds` after the Unix epoch.
    public static func milliseconds<T: BinaryInteger>(_ milliseconds: T) -> WallInstant { .epoch + .milliseconds(milliseconds) }
}

extension MonotonicInstant {
    /// `seconds` after the clock's zero.
    public static func seconds<T: BinaryInteger>(_ seconds: T) -> MonotonicInstant { .zero + .seconds(seconds) }

    /// `milliseconds` after the clock's zero.
    public static func milliseconds<T: BinaryInteger>(_ milliseconds: T) -> MonotonicInstant { .zero + .milliseconds(milliseconds) }
}
