/// What one replica last said over StatsD.
public struct ReplicaSignals: Sendable, Equatable {
    /// When any line from it last arrived (the epoch until one has).
    public var lastSeen: WallInstant
    /// The latest valid value of each signal, as sent (TigerBeetle's units), nil until received.
    /// Every value is a whole number within its signal's `validRange`.
    public var values: [Double?] = Array(repeating: nil, count: ReplicaSignal.allCases.count)
    /// When each value arrived (the epoch until it did). StatsD loses datagrams one by one, so one signal's value can be
    /// older than the replica's last line.
    public var valuesAt: [WallInstant] = Array(repeating: .epoch, count: ReplicaSignal.allCases.count)

    public subscript(signal: ReplicaSignal) -> Double? { values[signal.rawValue] }

    /// The same, without the values that arrived longer than `staleAfter` before `now`: what may be judged. (A value
    /// from before a silence is no word about now, even once other lines come again: the simulator's seed 9101974, a
    /// replica's sync stage from before it was stopped paged Syncing again 22 s after its sync had ended.)
    public func judged(now: WallInstant, staleAfter: Duration) -> ReplicaSignals {
        var judged = self
        for i in values.indices where now - valuesAt[i] > staleAfter { judged.values[i] = nil }
        return judged
    }
}
