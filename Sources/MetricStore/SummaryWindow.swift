import TigerBeetle

/// A summary's quantiles over a sliding window, as client_golang's summaries (statsd_exporter's timers) keep them:
/// `ageBuckets` streams each take every observation; every `maxAge / ageBuckets` the oldest (the head, which the
/// quantiles are read from) starts over and the next becomes the head, so the quantiles cover the last 8 to 10 minutes
/// at the defaults. Observations wait in a buffer of at most `bufferCapacity` before they are merged. Time is a
/// parameter (a `WallInstant`); nothing here reads a clock.
struct SummaryWindow: Sendable {
    static let maxAge: Duration = .seconds(600)
    static let ageBuckets = 5
    static let bufferCapacity = 500
    static let bucketDuration = maxAge / ageBuckets
    /// The quantiles rendered, in order.
    static let quantiles = QuantileStream.statsdExporterTargets.map(\.quantile)

    private var streams: [QuantileStream]
    private var head = 0
    private var headExpires: WallInstant
    private var buffer: [Double] = []

    init(now: WallInstant) {
        streams = Array(repeating: QuantileStream(targets: QuantileStream.statsdExporterTargets), count: Self.ageBuckets)
        headExpires = now + Self.bucketDuration
    }

    /// One observation.
    mutating func observe(_ value: Double, now: WallInstant) {
        rotate(now: now)
        buffer.append(value)
        if buffer.count >= Self.bufferCapacity { flush() }
    }

    /// The value at each of `quantiles` over the window at `now`; NaN when the window holds no observation.
    func values(now: WallInstant) -> [Double] {
        // Rotations due by now, not yet made (no observation since): the head moves on by as many, and the buffered
        // observations, all older than those rotations, belong to it.
        var due = 0
        if now >= headExpires {
            let elapsed = now - headExpires
            due = Int(min(Int64(Self.ageBuckets), elapsed.nanoseconds / Self.bucketDuration.nanoseconds + 1))
        }
        if due >= Self.ageBuckets { return Self.noObservation }
        var stream = streams[(head + due) % Self.ageBuckets]
        if stream.samples.isEmpty {
            // Nothing merged yet: every observation is in the buffer, answered exactly (perks' path for few values).
            guard !buffer.isEmpty else { return Self.noObservation }
            let sorted = buffer.sorted()
            return Self.quantiles.map { q in sorted[max(0, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }
        }
        if !buffer.isEmpty { stream.merge(sorted: sortedBuffer) }
        return Self.quantiles.map { stream.query($0) }
    }

    private mutating func rotate(now: WallInstant) {
        guard now >= headExpires else { return }
        flush()
        var rotations = 0
        while now >= headExpires && rotations < Self.ageBuckets {
            streams[head] = QuantileStream(targets: QuantileStream.statsdExporterTargets)
            head = (head + 1) % Self.ageBuckets
            headExpires = headExpires + Self.bucketDuration
            rotations += 1
        }
        // Silent for longer than the whole window: every stream started over; the next head expires a bucket from now.
        if now >= headExpires { headExpires = now + Self.bucketDuration }
    }

    private mutating func flush() {
        guard !buffer.isEmpty else { return }
        let sorted = sortedBuffer
        for i in streams.indices { streams[i].merge(sorted: sorted) }
        buffer.removeAll()
    }

    /// The buffered observations in order, each of weight 1, as `QuantileStream.merge` takes them.
    private var sortedBuffer: [(value: Double, weight: Double)] { buffer.sorted().map { (value: $0, weight: 1) } }

    /// What an empty window answers for each quantile.
    private static let noObservation = quantiles.map { _ in Double.nan }

    /// Samples held across the streams and the buffer (for the memory bound's tests).
    var heldSamples: Int { streams.reduce(buffer.count) { $0 + $1.samples.count } }
}
