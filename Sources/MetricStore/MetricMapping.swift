/// The Prometheus type of a family.
public enum FamilyType: String, Sendable {
    case counter, gauge, summary
}

/// What a sample does to its series.
public enum SampleAction: UInt8, Sendable {
    /// `value += v / rate`.
    case counterAdd
    /// `value = v` (a counter the sender reports as a running total).
    case counterSet
    /// `value = v`; a sign is part of the number.
    case gaugeSet
    /// statsd semantics: a signed value (`+3`, `-3`) is a delta, an unsigned one absolute.
    case gaugeSetOrDelta
    /// One observation into a summary: `sum += v ÷ divisor`, `count += 1`, repeated `⌊1/rate⌋` times.
    case observe
    /// A pre-aggregated sum of observations (TigerBeetle's `_us.sum`): `sum += v`.
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
    /// The unit conversion, as an exact divisor (1e9 for nanoseconds → seconds), applied once when a value is read:
    /// series add up in the sender's unit (TigerBeetle's integers stay exact up to 2^53), and dividing an exact
    /// integer by an exact power of ten gives the double nearest the decimal (10,066,686 µs → 10.066686), where
    /// multiplying by 1e-6 (10.066685999999999) or adding converted values (0.015179999999999999) does not.
    public var divisor: Double

    public init(family: String, type: FamilyType, help: String, action: SampleAction, divisor: Double = 1) {
        self.family = family
        self.type = type
        self.help = help
        self.action = action
        self.divisor = divisor
    }

    /// Whether values add up in the sender's unit and are converted when read (TigerBeetle's pre-aggregated sums and
    /// counts), rather than converted as they arrive: a gauge or a running total is one value and one division
    /// (`UnitConversion`); a timer's observation is converted one by one, as statsd_exporter does, so that a timer
    /// and a histogram of one name still share its summary.
    public var convertsOnRead: Bool {
        switch action {
        case .counterAdd, .summarySum, .summaryCount, .gaugeSetOrDelta: true
        case .counterSet, .gaugeSet, .setAdd, .observe: false
        }
    }

    /// The divisor applied when the family's values are read: one per family.
    var readDivisor: Double { convertsOnRead ? divisor : 1 }

    /// The sample names a family of this type puts on the page.
    public var sampleNames: [String] {
        type == .summary ? [family, family + "_sum", family + "_count"] : [family]
    }
}
