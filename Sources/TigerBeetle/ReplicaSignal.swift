/// The TigerBeetle gauges the health model reads, by their `tb.` name.
public enum ReplicaSignal: Int, CaseIterable, Sendable, Codable {
    case status, syncStage, peerReplicaConnections, view, commitMax, journalFaulty, gridBlocksMissing, clockDeltaNanoseconds, release

    /// The signal a `tb.` gauge carries, if any (`peer` is the line's `peer` tag).
    package static func from(tigerBeetleKey key: Substring, peer: String?) -> ReplicaSignal? {
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

/// Why a signal's value was not believed. The raw value is the `reason` label of
/// `beetlewatch_statsd_invalid_signals_total`.
public enum InvalidSignalReason: String, Sendable, CaseIterable {
    /// TigerBeetle sends whole numbers only.
    case notInteger = "not_integer"
    /// Outside what the field's TigerBeetle type can hold.
    case outOfRange = "out_of_range"
}
