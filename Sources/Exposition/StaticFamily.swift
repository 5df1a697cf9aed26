import MetricStore

/// A small family built for one scrape (the agent's own metrics).
public struct StaticFamily: Sendable {
    public var name: String
    public var help: String
    public var type: FamilyType
    public var samples: [(labels: LabelSet, value: Double)]
    /// A summary's series (`_sum` and `_count`, no quantiles); empty for other types.
    public var summaries: [(labels: LabelSet, sum: Double, count: Double)] = []

    public init(name: String, help: String, type: FamilyType, samples: [(labels: LabelSet, value: Double)]) {
        self.name = name
        self.help = help
        self.type = type
        self.samples = samples
    }

    /// A summary without quantiles: each series' sum and count.
    public init(summary name: String, help: String, series: [(labels: LabelSet, sum: Double, count: Double)]) {
        self.init(name: name, help: help, type: .summary, samples: [])
        summaries = series
    }

    /// A family with a single unlabelled sample.
    public init(name: String, help: String, type: FamilyType, value: Double) {
        self.init(name: name, help: help, type: type, samples: [(LabelSet([]), value)])
    }

    /// The family with only the samples `scope` shows, or nil when none is left.
    public func limited(to scope: PageScope) -> StaticFamily? {
        if scope == .all { return self }
        var kept = self
        kept.samples = samples.filter { scope.includes(cluster: $0.labels.value(of: "cluster")) }
        kept.summaries = summaries.filter { scope.includes(cluster: $0.labels.value(of: "cluster")) }
        return kept.samples.isEmpty && kept.summaries.isEmpty ? nil : kept
    }

    /// The sample names it puts on the page.
    public var sampleNames: [String] {
        MetricMapping(family: name, type: type, help: help, action: .gaugeSet).sampleNames
    }
}
