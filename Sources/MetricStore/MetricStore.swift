import StatsD
import TigerBeetle

/// Every live series, fed StatsD datagrams, read as sorted families.
///
/// A value type with one writer: the ingest thread mutates it; a scrape takes a
/// copy under the lock (O(1), copy-on-write) and renders from the copy. Time is a
/// parameter (a `WallInstant`); the store reads no clock.
public struct MetricStore: Sendable {
    public struct Options: Sendable {
        public var mode: NamingMode
        /// Series not updated for this long disappear (zero = never).
        public var ttl: Duration
        public var tagLimits: LabelSet.Limits
        public var maxLineLength: Int
        /// Prometheus names the store must never create (the agent's own metrics).
        public var reservedNames: Set<String>
        /// Beyond this many series, new ones are refused (and counted); existing ones keep updating.
        public var maxSeries: Int
        /// Cluster ids (32 hex digits) configured to be watched: their replicas' signals are always kept.
        public var watchedClusters: Set<String>
        /// Clusters nobody configured whose signals are kept at most (they expire with `ttl`).
        public var maxUnwatchedClusters: Int

        public init(
            mode: NamingMode = .tigerbeetle, ttl: Duration = .seconds(120),
            tagLimits: LabelSet.Limits = .init(), maxLineLength: Int = 65_535,
            reservedNames: Set<String> = [], maxSeries: Int = 500_000,
            watchedClusters: Set<String> = [], maxUnwatchedClusters: Int = 16
        ) {
            self.mode = mode
            self.ttl = ttl
            self.tagLimits = tagLimits
            self.maxLineLength = maxLineLength
            self.reservedNames = reservedNames
            self.maxSeries = maxSeries
            self.watchedClusters = watchedClusters
            self.maxUnwatchedClusters = maxUnwatchedClusters
        }
    }

    /// Series whose quantiles are kept at most (timers and histograms past it keep `_sum` and `_count`; their values
    /// are counted in `quantilesDropped`): at most ~35 KB each, ~350 MB in all.
    public static let maxSummaryWindows = 10_000

    /// Distinct members a set series counts at most.
    public static let maxSetMembers = 10_000

    public let options: Options
    public private(set) var stats = IngestStats()
    /// What TigerBeetle replicas said that the health model reads.
    public private(set) var signals: TigerBeetleSignals

    private let namer: MetricNamer
    private let parser: StatsDParser
    private var families: [Family] = []
    private var familyIndex: [String: Int32] = [:]
    /// Every sample name on the page → its family (-1: reserved).
    private var takenNames: [String: Int32] = [:]
    private var seriesIndex = SeriesTable()
    private var series = SeriesColumns()
    private var setMembers: [Int32: Set<String>] = [:]
    /// Quantiles of the series that observe (timers and histograms, statsd_exporter's summaries), by series.
    private var summaryWindows: [Int32: SummaryWindow] = [:]
    /// Raw line shape (name, type, tags) → what to do with its values.
    private var lineCache = LineShapeTable<LineTarget>()
    /// The line cache's entry of the last line applied: the next line is likely the entry after it.
    private var lastEntry = -1
    /// Where the parser puts the values of a line that has several (`1:2:3`); one value stays in the line.
    private var valueScratch: [StatsDValue] = []

    public init(options: Options = Options()) {
        self.options = options
        self.namer = MetricNamer(mode: options.mode)
        self.parser = StatsDParser(maxLineLength: options.maxLineLength)
        self.signals = TigerBeetleSignals(watched: options.watchedClusters, maxUnwatchedClusters: options.maxUnwatchedClusters)
        for name in options.reservedNames { takenNames[name] = -1 }
        valueScratch.reserveCapacity(16)
    }

    /// Number of series currently held (expired ones count until `expire` runs).
    public var seriesCount: Int { series.size }
    var familyCount: Int { families.count }
    var lineCacheCount: Int { lineCache.count }
    /// Line shapes cached before the cache starts over: twice the series limit.
    var lineCacheLimit: Int { max(1024, 2 * options.maxSeries) }

    // MARK: Ingest

    /// Applies every line of one datagram.
    public mutating func ingest(datagram: UnsafeRawBufferPointer, now: WallInstant) {
        stats.datagrams += 1
        stats.bytes += UInt64(datagram.count)
        StatsDDatagram.forEachLine(datagram) { line in
            ingest(line: line, now: now)
        }
    }

    /// Applies one line.
    public mutating func ingest(line: UnsafeRawBufferPointer, now: WallInstant) {
        // The name and tags are checked for control characters and UTF-8 only when their shape is new (`target(of:)`):
        // a cached shape's bytes were checked when it was cached.
        switch parser.parseLineDeferringByteCheck(line, values: &valueScratch) {
        case .metric(let metric):
            apply(metric, now: now)
        case .event:
            stats.events += 1
        case .serviceCheck:
            stats.serviceChecks += 1
        case .empty:
            break
        case .invalid(let reason):
            stats.count(reason)
        }
    }

    private mutating func apply(_ metric: StatsDMetricLine, now: WallInstant) {
        guard let target = target(of: metric) else { return }
        if target.series == LineTarget.conflict {
            stats.typeConflicts += 1
            return
        }
        if target.series == LineTarget.refused {
            // No series for it, but a watched replica's health must not depend on series room.
            tap(target, metric, now: now)
            return
        }
        assert(target.series >= 0 && Int(target.series) < series.state.count, "a line's target is a series, a conflict or refused")
        let s = Int(target.series)
        // The new value and count are worked out first: a line whose finite values would take the series
        // to ±Inf or NaN is refused whole, and the series keeps what it had. Sums stay in the unit the sender
        // used (TigerBeetle's integer µs and ns add up exactly, up to 2^53) and the family's divisor converts them
        // once, when they are read (`FamilyView`); a gauge is converted once, as it arrives (`UnitConversion`), and
        // a timer's observations one by one (`MetricMapping.convertsOnRead`).
        var value = series.state[s].value
        var count = series.state[s].observations
        switch target.action {
        case .counterAdd:
            metric.forEachValue(valueScratch) { v in value += v.value / metric.sampleRate }
        case .summarySum:
            metric.forEachValue(valueScratch) { v in value += v.value }
        case .counterSet, .gaugeSet:
            let last = metric.lastValue(valueScratch).value
            // The digits of a one-value line are its raw value; a `1:2:3` line's last value keeps its parsed double.
            let digits = metric.valueCount == 1 ? metric.rawValues : UnsafeRawBufferPointer(start: nil, count: 0)
            value = target.divisor == 1 ? last : UnitConversion.convert(last, divisor: target.divisor, digits: digits)
        case .gaugeSetOrDelta:
            metric.forEachValue(valueScratch) { v in
                if v.signed { value += v.value } else { value = v.value }
            }
        case .observe:
            // The parser bounds the rate below (`StatsDParser.minSampleRate`): at most 10^6 repeats.
            let repeats = max(1, (1 / metric.sampleRate).rounded(.down))
            metric.forEachValue(valueScratch) { v in
                value += v.value / target.divisor * repeats
                count += repeats
            }
        case .summaryCount:
            metric.forEachValue(valueScratch) { v in count += v.value }
        case .setAdd:
            addSetMembers(metric.rawValues, series: target.series)
            value = series.state[s].value
        }
        guard value.isFinite, count.isFinite else {
            stats.count(.valueOverflow)
            return
        }
        series.state[s] = SeriesState(value: value, observations: count, updated: now)
        if target.action == .observe { observeQuantiles(metric, series: target.series, divisor: target.divisor, now: now) }
        stats.lines += 1
        stats.tagsDropped += UInt64(target.droppedTags)
        stats.reservedLabels += UInt64(target.reservedLabels)
        tap(target, metric, now: now)
    }

    /// Where a line's values go: its shape looked up in place (no copy), resolved once per new shape.
    @inline(__always)
    private mutating func target(of metric: StatsDMetricLine) -> LineTarget? {
        let shape = LineShape(name: metric.name, type: metric.type.rawValue, tags: metric.tags)
        // Clients send their lines in the same order every interval (TigerBeetle does), and shapes are cached in the
        // order first seen: the entry after the last line's is tried first, compared in full, before hashing.
        let predicted = lastEntry &+ 1
        if lineCache.holds(shape, at: predicted) {
            lastEntry = predicted
            return lineCache.values[predicted]
        }
        let hash = lineCache.hash(shape)
        if let entry = lineCache.find(shape, hash: hash) {
            lastEntry = entry
            return lineCache.values[entry]
        }
        if metric.namesUnchecked, let reason = StatsDParser.checkNames(metric) {
            stats.count(reason)
            return nil
        }
        guard let resolved = resolve(metric) else { return nil }
        // A line refused by the series limit is not cached: memory stays bounded.
        guard resolved.series != LineTarget.refused else { return resolved }
        // Line shapes can outnumber series (tag orders, type conflicts): the cache starts over
        // rather than grow without bound.
        if lineCache.count >= lineCacheLimit { lineCache.removeAll() }
        lastEntry = lineCache.insert(shape, hash: hash, value: resolved)
        return resolved
    }

    /// A line's observations into its series' quantile window, each value once. statsd_exporter observes a sampled
    /// value ⌊1/rate⌋ times; a timer sampled at one rate has the same quantiles either way, and `@0.000001` does not
    /// cost a million insertions here. (Sum and count do count ⌊1/rate⌋.)
    private mutating func observeQuantiles(_ metric: StatsDMetricLine, series s: Int32, divisor: Double, now: WallInstant) {
        // Each window holds up to 5 × 256 samples and 500 buffered values (~35 KB): their number is capped.
        if summaryWindows[s] == nil && summaryWindows.count >= Self.maxSummaryWindows {
            stats.quantilesDropped &+= UInt64(max(1, metric.valueCount))
            return
        }
        metric.forEachValue(valueScratch) { v in
            summaryWindows[s, default: SummaryWindow(now: now)].observe(v.value / divisor, now: now)
        }
    }

    /// The quantiles a summary that observes renders, in order (statsd_exporter's: 0.5, 0.9, 0.99).
    public static var summaryQuantiles: [Double] { SummaryWindow.quantiles }

    /// What a replica's line tells the health model: it was heard, and the signal it carries.
    @inline(__always)
    private mutating func tap(_ target: LineTarget, _ metric: StatsDMetricLine, now: WallInstant) {
        if let ignored = target.replicaIgnored {
            stats.count(ignored)
        } else if target.replica >= 0 {
            // A value TigerBeetle could not have sent is no word from the replica: a forged line must not keep a
            // silent replica's last values fresh (the simulator's seed 9100040: a crashed replica's last sync stage,
            // kept "fresh" by forged `replica_commit_max:-5` lines, held TigerBeetleReplicaSyncing firing 25 s after
            // the sync ended).
            if let signal = target.signal, metric.valueCount > 0 {
                if signals.record(signal, value: metric.lastValue(valueScratch).value, slot: target.replica, now: now) {
                    signals.heard(target.replica, now: now)
                }
            } else {
                signals.heard(target.replica, now: now)
            }
        }
    }

    private mutating func addSetMembers(_ raw: UnsafeRawBufferPointer, series s: Int32) {
        var members = setMembers[s] ?? []
        var start = 0
        while start <= raw.count {
            let end = StatsDParser.index(of: UInt8(ascii: ":"), in: raw, from: start)
            if end > start {
                let member = String(decoding: raw[start..<end], as: UTF8.self)
                if members.count < Self.maxSetMembers || members.contains(member) {
                    members.insert(member)
                } else {
                    stats.setMembersDropped += 1
                }
            }
            start = end + 1
        }
        setMembers[s] = members
        series.state[Int(s)].value = Double(members.count)
    }

    /// The slow path, once per new line shape: name mapping, labels, family and series.
    /// Returns nil when the line is rejected (and counts why).
    private mutating func resolve(_ metric: StatsDMetricLine) -> LineTarget? {
        let parsed: LabelSet
        let dropped: Int
        switch LabelSet.parse(dogStatsDTags: metric.tags, limits: options.tagLimits) {
        case .success(let result): (parsed, dropped) = result
        case .failure(let reason):
            stats.count(reason)
            return nil
        }
        let name = String(decoding: metric.name, as: UTF8.self)
        let mapping = namer.mapping(name: name, type: metric.type)
        let (labels, reserved) = parsed.withoutReservedNames(for: mapping.type)
        // At the limit, a new name is refused before its family is created: a flood of unique
        // names must not grow the family tables either.
        if series.size >= options.maxSeries && familyIndex[mapping.family] == nil {
            return refused(name: name, type: metric.type, labels: labels, mapping: mapping)
        }
        guard let family = familyFor(mapping) else {
            return LineTarget(series: LineTarget.conflict, action: mapping.action, divisor: mapping.divisor, droppedTags: 0)
        }
        let renderedPairs = labels.renderedPairs
        let s: Int32
        if let numbers = series.find(renderedPairs: renderedPairs),
            let existing = seriesIndex.find(family: family, pairNumbers: numbers, in: series)
        {
            s = existing
        } else {
            // A cardinality limit: refuse, count, and cache nothing (memory stays bounded). A refused series interns no
            // pair either.
            guard series.size < options.maxSeries, series.hasRoom(forPairs: renderedPairs.count) else {
                return refused(name: name, type: metric.type, labels: labels, mapping: mapping)
            }
            s = Int32(series.size)
            series.append(family: family, pairNumbers: series.intern(renderedPairs: renderedPairs))
            seriesIndex.insert(s, columns: series)
            families[Int(family)].pending.append(s)
            families[Int(family)].mergePendingIfLarge(columns: series)
            stats.seriesCreated += 1
        }
        var target = LineTarget(
            series: s, action: mapping.action, divisor: mapping.divisor, droppedTags: dropped, reservedLabels: reserved)
        tapTigerBeetleSignals(name: name, type: metric.type, labels: labels, into: &target)
        return target
    }

    /// A line the series limit refuses (counted): it keeps only what it tells the health model.
    private mutating func refused(name: String, type: MetricType, labels: LabelSet, mapping: MetricMapping) -> LineTarget {
        stats.seriesRefused += 1
        var target = LineTarget(series: LineTarget.refused, action: mapping.action, divisor: mapping.divisor, droppedTags: 0)
        tapTigerBeetleSignals(name: name, type: type, labels: labels, into: &target)
        return target
    }

    /// Lines from a TigerBeetle replica (`tb.*` with `cluster` and `replica` tags)
    /// refresh its last-seen time; the gauges health reads are also recorded. Tags that are not
    /// TigerBeetle's form, and new clusters beyond the unwatched limit, leave an ordinary metric.
    private mutating func tapTigerBeetleSignals(name: String, type: MetricType, labels: LabelSet, into target: inout LineTarget) {
        guard name.hasPrefix("tb."),
            let cluster = labels.value(of: "cluster"),
            let replica = labels.value(of: "replica")
        else { return }
        switch ReplicaKey.parse(cluster: cluster, replica: replica).flatMap({ signals.slot(for: $0) }) {
        case .success(let slot):
            target.replica = slot
        case .failure(let ignored):
            target.replicaIgnored = ignored
            return
        }
        if type == .gauge {
            target.signal = ReplicaSignal.from(tigerBeetleKey: name.dropFirst(3), peer: labels.value(of: "peer"))
        }
    }

    /// Sets which clusters are watched (start-up and reload); lines are resolved again, so a cluster
    /// refused before is taken once there is room for it.
    public mutating func watch(clusters: Set<String>, maxUnwatchedClusters: Int) {
        signals.watch(clusters, maxUnwatchedClusters: maxUnwatchedClusters)
        lineCache.removeAll()
    }

    /// The family for a mapping, created if its names are free; nil on a conflict.
    private mutating func familyFor(_ mapping: MetricMapping) -> Int32? {
        if let existing = familyIndex[mapping.family] {
            // One unit per family: values are kept in the sender's unit and converted when read.
            let family = families[Int(existing)]
            return family.type == mapping.type && family.divisor == mapping.readDivisor ? existing : nil
        }
        let names = mapping.sampleNames
        if names.contains(where: { takenNames[$0] != nil }) { return nil }
        let index = Int32(families.count)
        families.append(Family(name: mapping.family, type: mapping.type, help: mapping.help, divisor: mapping.readDivisor))
        familyIndex[mapping.family] = index
        for name in names { takenNames[name] = index }
        return index
    }

    // MARK: Expiry

    /// Series updated before this are past their TTL at `now` (more than the TTL ago), worked out once for every series
    /// a pass reads; nil when nothing expires (a TTL of zero).
    @inline(__always)
    func expiredBefore(now: WallInstant) -> WallInstant? {
        options.ttl > .zero ? now - options.ttl : nil
    }

    /// Whether series `s` is past its TTL (`expiredBefore(now:)`): one comparison of two instants per series.
    @inline(__always)
    func isExpired(_ s: Int, before cutoff: WallInstant?) -> Bool {
        guard let cutoff else { return false }
        return series.state[s].updated < cutoff
    }

    /// Removes series past their TTL, and families left empty. Returns how many series went.
    @discardableResult
    public mutating func expire(now: WallInstant) -> Int {
        guard options.ttl > .zero else { return 0 }
        let cutoff = expiredBefore(now: now)
        // Unwatched clusters' replicas go with their series; cached lines name their slots.
        if signals.expireUnwatched(now: now, ttl: options.ttl) { lineCache.removeAll() }
        var keep: [Bool] = []
        keep.reserveCapacity(series.size)
        var removed = 0
        for s in 0..<series.size {
            let live = !isExpired(s, before: cutoff)
            keep.append(live)
            if !live { removed += 1 }
        }
        if removed == 0 { return 0 }
        rebuild(keeping: keep)
        stats.seriesExpired += UInt64(removed)
        return removed
    }

    /// Compacts the columns to the kept series and rebuilds every index from them.
    private mutating func rebuild(keeping keep: [Bool]) {
        let old = series
        let oldFamilies = families
        var newIndexOfSeries = Array(repeating: Int32(-1), count: old.size)
        series = SeriesColumns()
        families = []
        familyIndex = [:]
        takenNames = [:]
        for name in options.reservedNames { takenNames[name] = -1 }
        var newFamilyOf = Array(repeating: Int32(-1), count: oldFamilies.count)
        for (f, family) in oldFamilies.enumerated() {
            let ordered = family.sorted + family.pending
            guard ordered.contains(where: { keep[Int($0)] }) else { continue }
            let index = Int32(families.count)
            newFamilyOf[f] = index
            var fresh = Family(name: family.name, type: family.type, help: family.help, divisor: family.divisor)
            for s in family.sorted where keep[Int(s)] {
                newIndexOfSeries[Int(s)] = Int32(series.size)
                fresh.sorted.append(Int32(series.size))
                series.append(from: old, index: Int(s), family: index)
            }
            for s in family.pending where keep[Int(s)] {
                newIndexOfSeries[Int(s)] = Int32(series.size)
                fresh.pending.append(Int32(series.size))
                series.append(from: old, index: Int(s), family: index)
            }
            families.append(fresh)
            familyIndex[family.name] = index
            for name in MetricMapping(family: family.name, type: family.type, help: "", action: .gaugeSet).sampleNames {
                takenNames[name] = index
            }
        }
        seriesIndex = SeriesTable(columns: series)
        var newSets: [Int32: Set<String>] = [:]
        for (s, members) in setMembers where newIndexOfSeries[Int(s)] >= 0 {
            newSets[newIndexOfSeries[Int(s)]] = members
        }
        setMembers = newSets
        var newWindows: [Int32: SummaryWindow] = [:]
        for (s, window) in summaryWindows where newIndexOfSeries[Int(s)] >= 0 {
            newWindows[newIndexOfSeries[Int(s)]] = window
        }
        summaryWindows = newWindows
        lineCache.removeAll()
    }

    // MARK: Reading

    /// Calls `body` for every family with at least one live series `scope` shows, sorted by name.
    public func forEachFamily(now: WallInstant, scope: PageScope = .all, _ body: (FamilyView) -> Void) {
        let order = families.indices.sorted { families[$0].name < families[$1].name }
        let cutoff = expiredBefore(now: now)
        guard case .cluster(let id) = scope else {
            for f in order {
                let view = FamilyView(store: self, family: families[f], now: now, expiredBefore: cutoff, unclustered: scope == .unclustered)
                if view.hasLiveSeries { body(view) }
            }
            return
        }
        // One cluster: its own series (`seriesOfCluster`), not a pass over every series of the store.
        guard let pair = Array(LabelSet([("cluster", id)]).renderedPairs.first ?? []).withUnsafeBytes({ series.pairs.find($0) }),
            let members = series.seriesOfCluster[pair]
        else { return }
        var rank = Array(repeating: 0, count: families.count)
        for (position, f) in order.enumerated() { rank[f] = position }
        let live = members.filter { !isExpired(Int($0), before: cutoff) }
        let sorted = series.pairs.withBytes { bytes in
            live.sorted { a, b in
                let fa = rank[Int(series.family[Int(a)])]
                let fb = rank[Int(series.family[Int(b)])]
                return fa != fb ? fa < fb : series.labelsPrecede(a, b, bytes)
            }
        }
        var start = 0
        while start < sorted.count {
            let f = Int(series.family[Int(sorted[start])])
            var end = start + 1
            while end < sorted.count && Int(series.family[Int(sorted[end])]) == f { end += 1 }
            body(FamilyView(store: self, family: families[f], now: now, expiredBefore: cutoff, members: Array(sorted[start..<end])))
            start = end
        }
    }

    /// The TigerBeetle cluster ids (32 lowercase hex digits) of the live series' `cluster` labels, sorted.
    public func clusterLabelValues(now: WallInstant) -> [String] {
        let cutoff = expiredBefore(now: now)
        let prefix = SeriesColumns.clusterPrefix.count
        return series.pairs.withBytes { bytes in
            series.seriesOfCluster.compactMap { pair, members -> String? in
                guard members.contains(where: { !isExpired(Int($0), before: cutoff) }) else { return nil }
                // 32 hex digits between `cluster="` and `"` (`SeriesColumns.isTigerBeetleCluster`): nothing to unescape.
                let rendered = bytes[pair]
                return String(decoding: rendered[(rendered.startIndex + prefix)..<(rendered.endIndex - 1)], as: UTF8.self)
            }
        }.sorted()
    }

    /// The names of the families currently held, sorted.
    public var familyNames: [String] { families.map(\.name).sorted() }

    /// A read-only view of one family, its series in label order.
    public struct FamilyView {
        let store: MetricStore
        let family: Family
        let now: WallInstant
        /// Series updated before this are past their TTL (`MetricStore.expiredBefore(now:)`).
        let expiredBefore: WallInstant?
        /// Only the series without a TigerBeetle cluster's `cluster` label (`PageScope.unclustered`).
        var unclustered = false
        /// The series to show, in label order, when not every live one (one cluster's).
        var members: [Int32]? = nil

        public var name: String { family.name }
        public var type: FamilyType { family.type }
        public var help: String { family.help }

        @inline(__always)
        func shows(_ s: Int32) -> Bool {
            !store.isExpired(Int(s), before: expiredBefore) && (!unclustered || !store.series.hasCluster(Int(s)))
        }

        var hasLiveSeries: Bool {
            if let members { return !members.isEmpty }
            return family.sorted.contains(where: shows) || family.pending.contains(where: shows)
        }

        /// Calls `body` for each series shown, in label order, with its labels (valid only during the call).
        private func forEachShown(_ body: (_ s: Int, _ labels: SeriesLabels) -> Void) {
            let columns = store.series
            let order = members ?? family.inLabelOrder(columns: columns)
            columns.pairs.withBytes { bytes in
                columns.labelPairs.withUnsafeBufferPointer { numbers in
                    for s in order where members != nil || shows(s) {
                        let i = Int(s)
                        body(i, SeriesLabels(numbers: UnsafeBufferPointer(rebasing: numbers[columns.labelRange(i)]), bytes: bytes))
                    }
                }
            }
        }

        /// Every live series of a summary, sorted by rendered labels: its labels, sum (in the family's unit), count,
        /// and the values at `MetricStore.summaryQuantiles` over the window at `now` when it observes (nil for
        /// pre-aggregated ones).
        public func forEachSummary(_ body: (_ labels: SeriesLabels, _ sum: Double, _ count: Double, _ quantiles: [Double]?) -> Void) {
            let divisor = family.divisor
            forEachShown { i, labels in
                let state = store.series.state[i]
                body(labels, state.value / divisor, state.observations, store.summaryWindows[Int32(i)]?.values(now: now))
            }
        }

        /// Every live series, sorted by rendered labels: (labels, value in the family's unit, count).
        /// `count` is the number of observations for summaries, 0 otherwise.
        public func forEachSeries(_ body: (_ labels: SeriesLabels, _ value: Double, _ count: Double) -> Void) {
            let divisor = family.divisor
            forEachShown { i, labels in
                let state = store.series.state[i]
                body(labels, state.value / divisor, state.observations)
            }
        }
    }
}
