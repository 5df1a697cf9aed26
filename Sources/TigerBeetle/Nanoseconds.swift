/// The arithmetic under `MonotonicInstant` and `WallInstant` (Int64 nanoseconds inside): a deadline or an age worked
/// out from a configured or received duration saturates at the ends of the range instead of trapping.
extension Int64 {
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    public func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
