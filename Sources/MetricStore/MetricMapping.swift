/// The Prometheus type of a family.
public enum FamilyType: String, Sendable {
    case counter, gauge, summary
}

/// What a sample does to its series.
public enum SampleAction: UInt8, Sendable {
    /// `value += v ÷ divisor / rate`.
    case counterAdd
    /// `value = v ÷ divisor` (a counter the sender reports as a running total).
    case counterSet
    /// `value = v ÷ divisor`; a sign is part of the number.
    case gaugeSet
    /// statsd semantics: a signed value (`+3`, `-3`) is a delta, an unsigned one absolute.
    case gaugeSetOrDelta
    /// One observation into a summary: `sum += v ÷ divisor`, `count += 1`, repeated `⌊1/rate⌋` times.
    case observe
    /// A pre-aggregated sum of observations (TigerBeetle's `_us.sum`): `sum += v ÷ divisor`.
    case summarySum
    /// A pre-aggregated number of observations (TigerBeetle's `_us.count`): `count += v`.
    case summaryCount
    /// A set member: the series counts distinct members.
    case setAdd
}

/// Where one StatsD metric (name and type) goes in Prometheus.
public struct MetricMapping: Sendable, Equatable {
    public var family: String
    public var type: FamilyType
    public var help: String
    public var action: SampleAction
    /// The unit conversion, as an exact divisor (1e9 for nanoseconds → seconds): dividing by an exact power of ten
    /// gives the double nearest the decimal (10,066,686 µs → 10.066686), multiplying by 1e-6 does not
    /// (10.066685999999999).
    public var divisor: Double

    public init(family: String, type: FamilyType, help: String, action: SampleAction, divisor: Double = 1) {
        self.family = family
        self.type = type
        self.help = help
        self.action = action
        self.divisor = divisor
    }

    /// The sample names a family of this type puts on the page.
    public var sampleNames: [String] {
        type == .summary ? [family, family + "_sum", family + "_count"] : [family]
    }
}
