/// Targeted quantiles over a stream in bounded memory: the CKMS algorithm (Cormode, Korn, Muthukrishnan,
/// Srivastava, "Effective Computation of Biased Quantiles over Data Streams", 2005) as prometheus/client_golang's
/// summaries use it (beorn7/perks): a sorted list of (value, width, delta) samples, compressed so that each target
/// quantile `q` is answered within a rank error of `epsilon · n`.
struct QuantileStream: Sendable {
    struct Target: Sendable {
        var quantile: Double
        var epsilon: Double
    }

    struct Sample: Sendable {
        var value: Double
        /// How many observations this sample stands for.
        var width: Double
        /// The uncertainty of its rank.
        var delta: Double
    }

    /// statsd_exporter's (client_golang's default) objectives: the median within 5%, p90 within 1%, p99 within 0.1%.
    static let statsdExporterTargets = [
        Target(quantile: 0.5, epsilon: 0.05), Target(quantile: 0.9, epsilon: 0.01), Target(quantile: 0.99, epsilon: 0.001),
    ]

    /// Samples a stream keeps at most. CKMS keeps few for most orders (31 for 100,000 values in a scrambled order), but
    /// values arriving in descending order escape its compression (24,773 after 1M): past this, the stream compresses
    /// with a doubled, then quadrupled… allowance, trading precision on such a stream for bounded memory.
    static let maxSamples = 256

    let targets: [Target]
    private(set) var samples: [Sample] = []
    /// Observations merged so far (weighted).
    private(set) var count: Double = 0

    init(targets: [Target]) {
        self.targets = targets
    }

    /// The rank error allowed at rank `r`: the tightest target's.
    private func allowance(_ r: Double) -> Double {
        var m = Double.greatestFiniteMagnitude
        for target in targets {
            let f =
                target.quantile * count <= r
                ? 2 * target.epsilon * r / target.quantile
                : 2 * target.epsilon * (count - r) / (1 - target.quantile)
            m = min(m, f)
        }
        return m
    }

    /// Merges observations sorted by value, each `(value, weight)`.
    mutating func merge(sorted observations: [(value: Double, weight: Double)]) {
        var r = 0.0
        var i = 0
        for observation in observations {
            var inserted = false
            while i < samples.count {
                let c = samples[i]
                if c.value > observation.value {
                    samples.insert(
                        Sample(value: observation.value, width: observation.weight, delta: max(0, (allowance(r)).rounded(.down) - 1)),
                        at: i)
                    i += 1
                    inserted = true
                    break
                }
                r += c.width
                i += 1
            }
            if !inserted {
                samples.append(Sample(value: observation.value, width: observation.weight, delta: 0))
                i += 1
            }
            count += observation.weight
            r += observation.weight
        }
        compress()
    }

    private mutating func compress() {
        compress(slack: 1)
        var slack = 2.0
        while samples.count > Self.maxSamples {
            compress(slack: slack)
            slack *= 2
        }
    }

    private mutating func compress(slack: Double) {
        guard samples.count >= 2 else { return }
        var xi = samples.count - 1
        var x = samples[xi]
        var r = count - 1 - x.width
        var i = samples.count - 2
        while i >= 0 {
            let c = samples[i]
            if c.width + x.width + x.delta <= allowance(r) * slack {
                x.width += c.width
                samples[xi] = x
                samples.remove(at: i)
                xi -= 1
            } else {
                x = c
                xi = i
            }
            r -= c.width
            i -= 1
        }
    }

    /// The value at quantile `q`; NaN with no observation.
    func query(_ q: Double) -> Double {
        guard let first = samples.first else { return .nan }
        var t = (q * count).rounded(.up)
        t += (allowance(t) / 2).rounded(.up)
        var previous = first
        var r = 0.0
        for c in samples.dropFirst() {
            r += previous.width
            if r + c.width + c.delta > t { return previous.value }
            previous = c
        }
        return previous.value
    }
}
