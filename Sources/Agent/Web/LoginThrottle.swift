import TigerBeetle

/// Failed basic-auth logins per client address: after `maxFailures` within `window`, the address is
/// refused (429) without a bcrypt check until its window has passed, so a bad-login flood costs each
/// attacking address a few bcrypt checks per window, not one per request. Time is a parameter (the monotonic clock).
struct LoginThrottle {
    let maxFailures: Int
    let window: Duration
    /// Addresses remembered at most; past that, expired ones are forgotten, then all (memory stays bounded).
    let maxAddresses: Int
    private var failures: [String: (count: Int, since: MonotonicInstant)] = [:]

    init(maxFailures: Int = 5, window: Duration = .seconds(10), maxAddresses: Int = 4096) {
        self.maxFailures = maxFailures
        self.window = window
        self.maxAddresses = maxAddresses
    }

    var trackedAddresses: Int { failures.count }

    func isThrottled(_ address: String, now: MonotonicInstant) -> Bool {
        guard let entry = failures[address] else { return false }
        return entry.count >= maxFailures && now - entry.since < window
    }

    mutating func recordFailure(_ address: String, now: MonotonicInstant) {
        if let entry = failures[address], now - entry.since < window {
            failures[address] = (entry.count + 1, entry.since)
            return
        }
        if failures.count >= maxAddresses {
            let window = window
            failures = failures.filter { now - $0.value.since < window }
            if failures.count >= maxAddresses { failures.removeAll() }
        }
        failures[address] = (1, now)
    }

    mutating func recordSuccess(_ address: String) {
        failures[address] = nil
    }
}
