/// A replica of a TigerBeetle cluster, as its StatsD tags name it.
public struct ReplicaKey: Hashable, Sendable, Comparable, Codable {
    /// The `cluster` tag: 32 lowercase hex digits.
    public var cluster: String
    /// The `replica` tag: 0...255 (TigerBeetle's replica index is a u8).
    public var replica: Int

    public init(cluster: String, replica: Int) {
        self.cluster = cluster
        self.replica = replica
    }

    public static func < (a: ReplicaKey, b: ReplicaKey) -> Bool {
        (a.cluster, a.replica) < (b.cluster, b.replica)
    }

    /// The key named by a line's `cluster` and `replica` tag values, or why they name none.
    /// TigerBeetle writes the cluster id as 32 zero-padded lowercase hex digits and the replica
    /// index as a decimal u8; anything else is not a replica's line.
    public static func parse(cluster: String, replica: String) -> Result<ReplicaKey, ReplicaLineIgnored> {
        let hex = cluster.utf8
        guard hex.count == 32, hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return .failure(.invalidClusterTag)
        }
        let digits = replica.utf8
        guard (1...3).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
              let index = Int(replica), index <= 255
        else { return .failure(.invalidReplicaTag) }
        return .success(ReplicaKey(cluster: cluster, replica: index))
    }
}

/// Why a `tb.*` line with `cluster` and `replica` tags was kept only as an ordinary metric,
/// not read as a replica's signals. The raw value is the `reason` label of
/// `beetlewatch_statsd_replica_lines_ignored_total`.
public enum ReplicaLineIgnored: String, Error, Sendable, CaseIterable {
    /// The `cluster` tag is not 32 lowercase hex digits (as TigerBeetle sends it).
    case invalidClusterTag = "invalid_cluster_tag"
    /// The `replica` tag is not a whole number from 0 to 255.
    case invalidReplicaTag = "invalid_replica_tag"
    /// The cluster is not watched and `--limits.max-unwatched-clusters` are already tracked.
    case unwatchedClusterLimit = "unwatched_cluster_limit"
}

/// Why a signal's value was not believed. The raw value is the `reason` label of
/// `beetlewatch_statsd_invalid_signals_total`.
public enum InvalidSignalReason: String, Sendable, CaseIterable {
    /// TigerBeetle sends whole numbers only.
    case notInteger = "not_integer"
    /// Outside what the field's TigerBeetle type can hold.
    case outOfRange = "out_of_range"
}

/// The TigerBeetle gauges the health model reads, by their `tb.` name.
public enum ReplicaSignal: Int, CaseIterable, Sendable, Codable {
    case status, syncStage, peerReplicaConnections, view, commitMax, journalFaulty, gridBlocksMissing, clockDeltaNanoseconds, release

    /// The signal a `tb.` gauge carries, if any (`peer` is the line's `peer` tag).
    static func from(tigerBeetleKey key: Substring, peer: String?) -> ReplicaSignal? {
        switch key {
        case "replica_status": .status
        case "replica_sync_stage": .syncStage
        case "message_bus_connections": peer == "replica" ? .peerReplicaConnections : nil
        case "replica_view": .view
        case "replica_commit_max": .commitMax
        case "journal_faulty": .journalFaulty
        case "grid_blocks_missing": .gridBlocksMissing
        case "clock_delta_ns": .clockDeltaNanoseconds
        case "release": .release
        default: nil
        }
    }

    /// The `signal` label of `beetlewatch_statsd_invalid_signals_total`: the `tb.` name.
    public var tigerBeetleName: String {
        switch self {
        case .status: "replica_status"
        case .syncStage: "replica_sync_stage"
        case .peerReplicaConnections: "message_bus_connections"
        case .view: "replica_view"
        case .commitMax: "replica_commit_max"
        case .journalFaulty: "journal_faulty"
        case .gridBlocksMissing: "grid_blocks_missing"
        case .clockDeltaNanoseconds: "clock_delta_ns"
        case .release: "release"
        }
    }

    /// The values the field's TigerBeetle type can hold, within what every reader of the signal
    /// converts without a trap (an `Int`, a `UInt64` difference, a float64 exact integer).
    public var validRange: ClosedRange<Double> {
        switch self {
        // Enums and small counts (u8 in TigerBeetle).
        case .status, .syncStage, .peerReplicaConnections: 0...255
        // u32 (a release is packed as `patch | minor << 8 | major << 16`).
        case .view, .release: 0...4_294_967_295
        // u64 counts and ops, kept to float64's exact integers (2^53).
        case .commitMax, .journalFaulty, .gridBlocksMissing: 0...9_007_199_254_740_992
        // i64 nanoseconds, kept to ±2^53 (104 days).
        case .clockDeltaNanoseconds: -9_007_199_254_740_992...9_007_199_254_740_992
        }
    }

    /// Why `value` cannot be this signal's, or nil when it can.
    public func invalidity(of value: Double) -> InvalidSignalReason? {
        guard validRange.contains(value) else { return .outOfRange }
        return value.rounded(.towardZero) == value ? nil : .notInteger
    }
}

/// What one replica last said over StatsD.
public struct ReplicaSignals: Sendable, Equatable {
    /// When any line from it last arrived (nanoseconds since the epoch).
    public var lastSeen: Int64
    /// The latest valid value of each signal, as sent (TigerBeetle's units), nil until received.
    /// Every value is a whole number within its signal's `validRange`.
    public var values: [Double?] = Array(repeating: nil, count: ReplicaSignal.allCases.count)

    public subscript(signal: ReplicaSignal) -> Double? { values[signal.rawValue] }
}

/// Per cluster: the highest view any replica reported, and how far it has risen.
public struct ClusterViewHistory: Sendable, Equatable {
    public var highestView: Double?
    /// The sum of the rises of the highest view: a view change between two 10 s samples
    /// leaves no `replica_status` trace, but it leaves this one.
    public var viewChanges: UInt64 = 0
}

/// The signals TigerBeetle replicas send that the health model needs, kept
/// apart from the series. Watched clusters' replicas do not expire (a silent replica stays
/// known); replicas of clusters nobody configured are capped in number of clusters and
/// expire with the series TTL, so forged traffic cannot grow them without bound.
public struct TigerBeetleSignals: Sendable {
    public private(set) var keys: [ReplicaKey] = []
    public private(set) var replicas: [ReplicaSignals] = []
    public private(set) var clusters: [String: ClusterViewHistory] = [:]
    /// Rises whenever a replica appears or goes, or a signal takes a new value (not on mere
    /// last-seen updates): the alert loop evaluates at once when it moves.
    public private(set) var generation: UInt64 = 0
    /// Cluster ids configured to be watched: their replicas are always tracked.
    public private(set) var watched: Set<String> = []
    /// How many clusters not watched are tracked at most.
    public private(set) var maxUnwatchedClusters: Int
    /// Values refused, indexed `signal.rawValue * InvalidSignalReason.allCases.count + reason`.
    public private(set) var invalid: [UInt64] = Array(repeating: 0, count: ReplicaSignal.allCases.count * InvalidSignalReason.allCases.count)
    /// The tracked clusters that are not watched.
    private var unwatched: Set<String> = []
    private var index: [ReplicaKey: Int32] = [:]

    public init(watched: Set<String> = [], maxUnwatchedClusters: Int = 16) {
        self.watched = watched
        self.maxUnwatchedClusters = max(0, maxUnwatchedClusters)
    }

    /// The number of tracked clusters that are not watched.
    public var unwatchedClusterCount: Int { unwatched.count }

    /// How many values of `signal` were refused for `reason`.
    public func invalidCount(_ signal: ReplicaSignal, _ reason: InvalidSignalReason) -> UInt64 {
        invalid[Self.invalidIndex(signal, reason)]
    }

    private static func invalidIndex(_ signal: ReplicaSignal, _ reason: InvalidSignalReason) -> Int {
        signal.rawValue * InvalidSignalReason.allCases.count + InvalidSignalReason.allCases.firstIndex(of: reason)!
    }

    /// The slot of a replica, created when first heard from; fails when its cluster is not watched
    /// and the unwatched clusters are at their limit.
    mutating func slot(for key: ReplicaKey) -> Result<Int32, ReplicaLineIgnored> {
        if let slot = index[key] { return .success(slot) }
        if !watched.contains(key.cluster) && !unwatched.contains(key.cluster) {
            guard unwatched.count < maxUnwatchedClusters else { return .failure(.unwatchedClusterLimit) }
            unwatched.insert(key.cluster)
        }
        let slot = Int32(keys.count)
        keys.append(key)
        replicas.append(ReplicaSignals(lastSeen: 0))
        index[key] = slot
        generation &+= 1
        return .success(slot)
    }

    @inline(__always)
    mutating func heard(_ slot: Int32, now: Int64) {
        replicas[Int(slot)].lastSeen = now
    }

    /// Records a signal's value, unless it is not one TigerBeetle could have sent (counted).
    mutating func record(_ signal: ReplicaSignal, value: Double, slot: Int32) {
        if let reason = signal.invalidity(of: value) {
            invalid[Self.invalidIndex(signal, reason)] &+= 1
            return
        }
        if replicas[Int(slot)].values[signal.rawValue] != value { generation &+= 1 }
        replicas[Int(slot)].values[signal.rawValue] = value
        guard signal == .view else { return }
        let cluster = keys[Int(slot)].cluster
        var history = clusters[cluster] ?? ClusterViewHistory()
        if let highest = history.highestView {
            if value > highest {
                // Both within 0...2^32 (validRange): the difference converts exactly; the sum of
                // rises of a rising maximum stays below 2^32 per tracked lifetime.
                history.viewChanges &+= UInt64(value - highest)
                history.highestView = value
            }
        } else {
            history.highestView = value
        }
        clusters[cluster] = history
    }

    /// Changes which clusters are watched (start-up, reload). A cluster that stops being watched is
    /// tracked as unwatched; beyond the limit, the least recently heard ones are dropped.
    mutating func watch(_ clusters: Set<String>, maxUnwatchedClusters: Int) {
        watched = clusters
        self.maxUnwatchedClusters = max(0, maxUnwatchedClusters)
        recountUnwatched()
        guard unwatched.count > self.maxUnwatchedClusters else { return }
        var lastHeard: [String: Int64] = [:]
        for (key, replica) in zip(keys, replicas) where unwatched.contains(key.cluster) {
            lastHeard[key.cluster] = max(lastHeard[key.cluster] ?? .min, replica.lastSeen)
        }
        let keep = Set(lastHeard.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(self.maxUnwatchedClusters).map(\.key))
        remove { !clusters.contains($0.key.cluster) && !keep.contains($0.key.cluster) }
    }

    private mutating func recountUnwatched() {
        let watched = watched
        unwatched = Set(keys.map(\.cluster).filter { !watched.contains($0) })
    }

    /// Forgets replicas of unwatched clusters not heard from for longer than `ttl` (ns; 0 = never).
    /// Returns whether any went (slots change: cached slots must be dropped).
    mutating func expireUnwatched(now: Int64, ttl: Int64) -> Bool {
        guard ttl > 0, !unwatched.isEmpty else { return false }
        let watched = watched
        return remove { entry in
            !watched.contains(entry.key.cluster) && now.subtractingReportingOverflow(entry.signals.lastSeen).partialValue > ttl
        }
    }

    /// Removes the replicas `gone` picks and compacts the slots; returns whether any went.
    @discardableResult
    private mutating func remove(where gone: ((key: ReplicaKey, signals: ReplicaSignals)) -> Bool) -> Bool {
        var newKeys: [ReplicaKey] = []
        var newReplicas: [ReplicaSignals] = []
        for (key, signals) in zip(keys, replicas) where !gone((key, signals)) {
            newKeys.append(key)
            newReplicas.append(signals)
        }
        guard newKeys.count != keys.count else { return false }
        keys = newKeys
        replicas = newReplicas
        index = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, Int32($0)) })
        recountUnwatched()
        let live = Set(keys.map(\.cluster)).union(watched)
        clusters = clusters.filter { live.contains($0.key) }
        generation &+= 1
        return true
    }

    public func signals(of key: ReplicaKey) -> ReplicaSignals? {
        index[key].map { replicas[Int($0)] }
    }

    /// Every replica heard from, sorted.
    public var heardReplicas: [ReplicaKey] { keys.sorted() }
}
