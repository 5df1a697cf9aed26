import MetricStore
import TigerBeetle

/// The `/metrics` page: the store's families and the agent's own, merged in name order.
public enum MetricsPage {
    public static func render(
        store: MetricStore, extra: [StaticFamily], now: WallInstant, capacityHint: Int = 64 * 1024, scope: PageScope = .all
    ) -> [UInt8] {
        renderPage(store: store, extra: extra, now: now, capacityHint: capacityHint, scope: scope).bytes
    }

    /// The page in a buffer the HTTP server sends without a copy.
    public static func renderPage(
        store: MetricStore, extra: [StaticFamily], now: WallInstant, capacityHint: Int = 64 * 1024, scope: PageScope = .all
    ) -> PageBuffer {
        var writer = ExpositionWriter(capacity: capacityHint)
        let extra = extra.compactMap { $0.limited(to: scope) }.sorted { $0.name < $1.name }
        var next = 0
        func flushExtra(before name: String?) {
            while next < extra.count && (name == nil || extra[next].name < name!) {
                write(extra[next], into: &writer)
                next += 1
            }
        }
        store.forEachFamily(now: now, scope: scope) { family in
            flushExtra(before: family.name)
            writer.family(name: family.name, help: family.help, type: family.type)
            Array(family.name.utf8).withUnsafeBytes { name in
                if family.type == .summary {
                    sumSuffix.withUnsafeBytes { sumSuffix in
                        countSuffix.withUnsafeBytes { countSuffix in
                            family.forEachSummary { labels, sum, count, quantiles in
                                if let quantiles {
                                    for (label, value) in zip(quantileLabels, quantiles) {
                                        label.withUnsafeBytes { writer.sample(name: name, labels: labels, adding: $0, value: value) }
                                    }
                                }
                                writer.sample(name: name, suffix: sumSuffix, labels: labels, value: sum)
                                writer.sample(name: name, suffix: countSuffix, labels: labels, value: count)
                            }
                        }
                    }
                } else {
                    family.forEachSeries { labels, value, _ in
                        writer.sample(name: name, labels: labels, value: value)
                    }
                }
            }
        }
        flushExtra(before: nil)
        return writer.page
    }

    /// `quantile="0.5"` and the others, as client_golang writes them.
    static let quantileLabels = MetricStore.summaryQuantiles.map { Array("quantile=\"\($0)\"".utf8) }
    static let sumSuffix = Array("_sum".utf8)
    static let countSuffix = Array("_count".utf8)

    static func write(_ family: StaticFamily, into writer: inout ExpositionWriter) {
        writer.family(name: family.name, help: family.help, type: family.type)
        // Each sample's labels rendered once, not once per comparison.
        let samples = family.samples.map { (labels: $0.labels.rendered, value: $0.value) }.sorted { $0.labels < $1.labels }
        for sample in samples {
            writer.sample(name: family.name, labels: sample.labels, value: sample.value)
        }
        for series in family.summaries.map({ (labels: $0.labels.rendered, sum: $0.sum, count: $0.count) }).sorted(by: {
            $0.labels < $1.labels
        }) {
            writer.sample(name: family.name, suffix: "_sum", labels: series.labels, value: series.sum)
            writer.sample(name: family.name, suffix: "_count", labels: series.labels, value: series.count)
        }
    }
}
