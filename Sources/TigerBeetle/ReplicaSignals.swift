/// What one replica last said over StatsD.
public struct ReplicaSignals: Sendable, Equatable {
    /// When any line from it last arrived (the epoch until one has).
    public var lastSeen: WallInstant
    /// The latest valid value of each signal, as sent (TigerBeetle's units), nil until received.
    /// Every value is a whole number within its signal's `validRange`.
    public var values: [Double?] = Array(repeating: nil, count: ReplicaSignal.allCases.count)

    public subscript(signal: ReplicaSignal) -> Double? { values[signal.rawValue] }
}
