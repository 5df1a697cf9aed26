/// A value from the sender's unit to the page's (µs or ns to seconds): one correctly rounded division, never a
/// sum of converted values.
///
/// Sums and running counts (`MetricMapping.convertsOnRead`) add up in the sender's unit and are divided when read;
/// a gauge is converted once, when it arrives, by `convert`. TigerBeetle's nanosecond timestamps
/// (`tb.replica_start`, ~1.8e18) are integers beyond 2^53, where the double the parser reads is already rounded: it
/// is read again from its digits and divided as whole and remainder, so that the page shows the double nearest the
/// exact decimal (1795731694516512653 ns → 1795731694.5165126 s, not the 1795731694.5165129 of a rounded division).
enum UnitConversion {
    /// Integers below this are exact as doubles.
    static let exactIntegerLimit = 9_007_199_254_740_992.0

    /// `parsed ÷ divisor`, with `digits` the value's text as sent (the parser's `rawValues` for a one-value line).
    @inline(__always)
    static func convert(_ parsed: Double, divisor: Double, digits: UnsafeRawBufferPointer) -> Double {
        guard divisor != 1, parsed.magnitude >= exactIntegerLimit, let whole = wholeNumber(digits) else { return parsed / divisor }
        // divisor is a power of ten below 2^53 (MetricMapping.divisor): exact as an integer.
        let unit = Int64(divisor)
        let (quotient, remainder) = whole.quotientAndRemainder(dividingBy: unit)
        // The quotient is below 2^53 for every divisor from 1e3 up; the remainder's quotient is rounded once, far below
        // the result's last place.
        return Double(quotient) + Double(remainder) / divisor
    }

    /// The decimal integer `[+-]digits` in `text`, or nil when it is anything else (a fraction, an exponent, too large).
    static func wholeNumber(_ text: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < text.count else { return nil }
        var magnitude: Int64 = 0
        while index < text.count {
            let digit = Int64(text[index]) &- 48
            guard digit >= 0 && digit <= 9 else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(digit)
            guard !o1 && !o2 else { return nil }
            magnitude = next
            index += 1
        }
        return negative ? -magnitude : magnitude
    }
}
