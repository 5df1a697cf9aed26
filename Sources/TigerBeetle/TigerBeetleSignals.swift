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
    public private(set) var invalid: [UInt64] = Array(
        repeating: 0, count: ReplicaSignal.allCases.count * InvalidSignalReason.allCases.count)
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
    package mutating func slot(for key: ReplicaKey) -> Result<Int32, ReplicaLineIgnored> {
        if let slot = index[key] { return .success(slot) }
        if !watched.contains(key.cluster) && !unwatched.contains(key.cluster) {
            guard unwatched.count < maxUnwatchedClusters else { return .failure(.unwatchedClusterLimit) }
            unwatched.insert(key.cluster)
        }
        let slot = Int32(keys.count)
        keys.append(key)
        replicas.append(ReplicaSignals(lastSeen: .epoch))
        index[key] = slot
        generation &+= 1
        return .success(slot)
    }

    @inline(__always)
    package mutating func heard(_ slot: Int32, now: WallInstant) {
        replicas[Int(slot)].lastSeen = now
    }

    /// Records a signal's value, unless it is not one TigerBeetle could have sent (counted); whether it was recorded.
    @discardableResult
    package mutating func record(_ signal: ReplicaSignal, value: Double, slot: Int32, now: WallInstant) -> Bool {
        if let reason = signal.invalidity(of: value) {
            invalid[Self.invalidIndex(signal, reason)] &+= 1
            return false
        }
        if replicas[Int(slot)].values[signal.rawValue] != value { generation &+= 1 }
        replicas[Int(slot)].values[signal.rawValue] = value
        replicas[Int(slot)].valuesAt[signal.rawValue] = now
        guard signal == .view else { return true }
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
        return true
    }

    /// Changes which clusters are watched (start-up, reload). A cluster that stops being watched is
    /// tracked as unwatched; beyond the limit, the least recently heard ones are dropped.
    package mutating func watch(_ clusters: Set<String>, maxUnwatchedClusters: Int) {
        watched = clusters
        self.maxUnwatchedClusters = max(0, maxUnwatchedClusters)
        recountUnwatched()
        guard unwatched.count > self.maxUnwatchedClusters else { return }
        var lastHeard: [String: WallInstant] = [:]
        for (key, replica) in zip(keys, replicas) where unwatched.contains(key.cluster) {
            lastHeard[key.cluster] = lastHeard[key.cluster].map { max($0, replica.lastSeen) } ?? replica.lastSeen
        }
        let keep = Set(lastHeard.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(self.maxUnwatchedClusters).map(\.key))
        remove { !clusters.contains($0.key.cluster) && !keep.contains($0.key.cluster) }
    }

    private mutating func recountUnwatched() {
        let watched = watched
        unwatched = Set(keys.map(\.cluster).filter { !watched.contains($0) })
    }

    /// Forgets replicas of unwatched clusters not heard from for longer than `ttl` (zero = never).
    /// Returns whether any went (slots change: cached slots must be dropped).
    package mutating func expireUnwatched(now: WallInstant, ttl: Duration) -> Bool {
        guard ttl > .zero, !unwatched.isEmpty else { return false }
        let watched = watched
        return remove { entry in
            !watched.contains(entry.key.cluster) && now - entry.signals.lastSeen > ttl
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
