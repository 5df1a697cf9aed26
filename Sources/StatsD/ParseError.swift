/// Why a StatsD line was rejected. The raw value is the `reason` label of
/// `beetlewatch_statsd_parse_errors_total`.
public enum ParseError: String, Error, Sendable, CaseIterable {
    /// No `:` between name and value, or no `|` before the type.
    case malformedLine = "malformed_line"
    /// Nothing before the first `:`.
    case emptyName = "empty_name"
    /// A value that is not a finite decimal number within float64's range
    /// (`NaN`, `Inf`, `1e400`, `0x10`, `1.2.3`, an empty value).
    case invalidValue = "invalid_value"
    /// A type other than `c`, `g`, `ms`, `h`, `d`, `s`.
    case invalidType = "invalid_type"
    /// A sample rate that is not a number from `StatsDParser.minSampleRate` (0.000001) to 1.
    case invalidSampleRate = "invalid_sample_rate"
    /// An unknown or empty `|` section, or a repeated `@` or `#` section.
    case invalidComponent = "invalid_component"
    /// A negative value on a counter.
    case negativeCounter = "negative_counter"
    /// Bytes that are not valid UTF-8.
    case invalidUTF8 = "invalid_utf8"
    /// An ASCII control character (NUL, tab, escape, ...) inside the line.
    case controlCharacter = "control_character"
    /// A line longer than the parser's limit.
    case lineTooLong = "line_too_long"
    /// More tags than the parser's limit, or a tag longer than its limit.
    case tooManyTags = "too_many_tags"
    /// Finite values that would take a counter, summary or gauge beyond float64's range
    /// (±Inf or NaN): the line is refused and the series keeps its value.
    case valueOverflow = "value_overflow"
}
