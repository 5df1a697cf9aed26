/// A replica of a TigerBeetle cluster, as its StatsD tags name it.
public struct ReplicaKey: Hashable, Sendable, Comparable, Codable {
    /// The `cluster` tag: 32 hex digits.
    public var cluster: String
    public var replica: Int

    public init(cluster: String, replica: Int) {
        self.cluster = cluster
        self.replica = replica
    }

    public static func < (a: ReplicaKey, b: ReplicaKey) -> Bool {
        (a.cluster, a.replica) < (b.cluster, b.replica)
    }
}

/// The TigerBeetle gauges the health model reads, by their `tb.` name.
public enum ReplicaSignal: Int, CaseIterable, Sendable, Codable {
    case status, syncStage, peerReplicaConnections, view, commitMax, journalFaulty, gridBlocksMissing, clockDeltaNanoseconds

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
        default: nil
        }
    }
}

/// What one replica last said over StatsD.
public struct ReplicaSignals: Sendable, Equatable {
    /// When any line from it last arrived (nanoseconds since the epoch).
    public var lastSeen: Int64
    /// The latest value of each signal, as sent (TigerBeetle's units), nil until received.
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
/// apart from the series: they do not expire (a silent replica stays known).
public struct TigerBeetleSignals: Sendable {
    public private(set) var keys: [ReplicaKey] = []
    public private(set) var replicas: [ReplicaSignals] = []
    public private(set) var clusters: [String: ClusterViewHistory] = [:]
    /// Rises whenever a replica appears or a signal takes a new value (not on mere last-seen updates):
    /// the alert loop evaluates at once when it moves.
    public private(set) var generation: UInt64 = 0
    private var index: [ReplicaKey: Int32] = [:]

    public init() {}

    /// The slot of a replica, created when first heard from.
    mutating func slot(for key: ReplicaKey) -> Int32 {
        if let slot = index[key] { return slot }
        let slot = Int32(keys.count)
        keys.append(key)
        replicas.append(ReplicaSignals(lastSeen: 0))
        index[key] = slot
        generation += 1
        return slot
    }

    @inline(__always)
    mutating func heard(_ slot: Int32, now: Int64) {
        replicas[Int(slot)].lastSeen = now
    }

    mutating func record(_ signal: ReplicaSignal, value: Double, slot: Int32) {
        if replicas[Int(slot)].values[signal.rawValue] != value { generation += 1 }
        replicas[Int(slot)].values[signal.rawValue] = value
        guard signal == .view else { return }
        let cluster = keys[Int(slot)].cluster
        var history = clusters[cluster] ?? ClusterViewHistory()
        if let highest = history.highestView {
            if value > highest {
                history.viewChanges += UInt64(value - highest)
                history.highestView = value
            }
        } else {
            history.highestView = value
        }
        clusters[cluster] = history
    }

    public func signals(of key: ReplicaKey) -> ReplicaSignals? {
        index[key].map { replicas[Int($0)] }
    }

    /// Every replica heard from, sorted.
    public var heardReplicas: [ReplicaKey] { keys.sorted() }
}
