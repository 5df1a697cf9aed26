/// One StatsD value: the number and whether it carried an explicit sign
/// (a signed gauge value is a delta in statsd_exporter's semantics).
public struct StatsDValue: Sendable, Equatable {
    public var value: Double
    public var signed: Bool

    @inlinable
    public init(value: Double, signed: Bool) {
        self.value = value
        self.signed = signed
    }
}

/// A parsed metric line. Its byte views point into the datagram being parsed and
/// are valid only inside the call that produced them.
public struct StatsDMetricLine {
    /// The metric name, as sent (not yet sanitised).
    public var name: UnsafeRawBufferPointer
    public var type: MetricType
    /// The `@rate` sample rate, 1 when absent.
    public var sampleRate: Double
    /// The DogStatsD tag list after `#` (`k:v,k2:v2`), empty when absent.
    public var tags: UnsafeRawBufferPointer
    /// The raw value section (`1`, `1:2:3`, or a set member).
    public var rawValues: UnsafeRawBufferPointer
    /// How many numeric values the line holds (0 for sets, whose members are in `rawValues`).
    public var valueCount: Int
    /// The first value. A line of one value (nearly all) leaves the caller's value buffer untouched; a line of
    /// several (`1:2:3`) has all of them in the buffer.
    public var first: StatsDValue
    /// The name and tags were not checked for control characters and UTF-8
    /// (`StatsDParser.parseLineDeferringByteCheck`): `StatsDParser.checkNames` before trusting them.
    public var namesUnchecked = false

    /// Calls `body` with each value in order: `first` alone, or the buffer's.
    @inlinable @inline(__always)
    public func forEachValue(_ buffer: [StatsDValue], _ body: (StatsDValue) -> Void) {
        if valueCount == 1 {
            body(first)
        } else {
            for value in buffer.prefix(valueCount) { body(value) }
        }
    }

    /// The last value (what a gauge is set to); `first` for a set line.
    @inlinable @inline(__always)
    public func lastValue(_ buffer: [StatsDValue]) -> StatsDValue {
        valueCount > 1 ? buffer[valueCount - 1] : first
    }
}

/// What one line of a datagram turned out to be.
public enum StatsDLineKind {
    case metric(StatsDMetricLine)
    /// A DogStatsD event (`_e{...}`): recognised and counted, not stored.
    case event
    /// A DogStatsD service check (`_sc|...`): recognised and counted, not stored.
    case serviceCheck
    /// An empty line (e.g. after a trailing newline): ignored.
    case empty
    case invalid(ParseError)
}
