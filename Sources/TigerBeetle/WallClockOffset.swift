/// How far the wall clock is ahead of the monotonic clock, from one reading of each taken together: moves an instant of
/// the monotonic clock (a probe session's result) to the wall clock (what health reads and the documents carry). Taken
/// afresh each time results are moved, so a jump of the wall clock moves what is published after it, never what the
/// sessions measure.
///
/// Checked arithmetic: the offset and every instant it moves come from readings of the two clocks, so a result out of
/// range is impossible by construction; it traps (`precondition`) rather than saturating.
public struct WallClockOffset: Sendable, Equatable {
    /// The wall reading minus the monotonic one (ns).
    private let nanoseconds: Int64

    /// The offset between `wall` and `monotonic`, read together.
    public init(wall: WallInstant, monotonic: MonotonicInstant) {
        let (offset, overflow) = wall.nanosecondsSinceEpoch.subtractingReportingOverflow(monotonic.nanoseconds)
        precondition(!overflow, "readings of the wall and monotonic clocks are within Int64 nanoseconds of each other")
        nanoseconds = offset
    }

    /// `instant`, a reading of the monotonic clock (or one worked out from readings), on the wall clock.
    public func wall(_ instant: MonotonicInstant) -> WallInstant {
        let (wall, overflow) = instant.nanoseconds.addingReportingOverflow(nanoseconds)
        precondition(!overflow, "a monotonic reading moved to the wall clock is a wall reading")
        return WallInstant(nanosecondsSinceEpoch: wall)
    }
}
