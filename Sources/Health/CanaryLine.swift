import TigerBeetle

/// A canary's state in one line, for the status page and `beetlewatch status`: "commits, last 0.4 s ago in 1.2 ms
/// (1,234 commits)", "FAILING for 12 s: no reply to lookup_accounts within 1s", "EVICTED: ...".
public enum CanaryLine {
    /// - Parameter now: Unix seconds.
    public static func text(_ canary: CanaryResult, now: Double) -> String {
        func ago(_ instant: WallInstant?) -> String {
            guard let instant else { return "?" }
            let seconds = max(0, now - instant.unixSeconds)
            return seconds < 10 ? "\((seconds * 10).rounded() / 10) s" : "\(Int(seconds.rounded())) s"
        }
        switch canary.state {
        case .starting:
            return "starting"
        case .committing:
            let latency = canary.lastLatencySeconds.map { " in " + StatusTable.format3(milliseconds: $0) } ?? ""
            return "commits, last \(ago(canary.lastCommitAt)) ago\(latency) (\(canary.commits) commits)"
        case .failing:
            return "FAILING for \(ago(canary.failingSince)): \(canary.error ?? "no reply")"
        case .evicted:
            return "EVICTED: \(canary.error ?? "the cluster evicted its session")"
        }
    }
}
