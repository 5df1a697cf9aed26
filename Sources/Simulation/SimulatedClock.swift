import Agent
import TigerBeetle

/// The simulation's clock: time moves only when the simulation moves it (`advance(to:)`), between steps. The agent's
/// parts read it as they read the system clock; no loop sleeps on it (the simulation steps them), so a wake-up's wait
/// is a defect, and traps.
public final class SimulatedClock: AgentClock, @unchecked Sendable {
    /// Nanoseconds since the simulation started (monotonic).
    public private(set) var now: Int64 = 0
    /// The wall time at zero: 2027-01-15 08:00:00 UTC.
    public let unixStart: Int64 = 1_800_000_000_000_000_000

    public init() {}

    public func unixNanoseconds() -> Int64 { unixStart + now }
    public func monotonic() -> MonotonicInstant { MonotonicInstant(nanoseconds: now) }
    public func makeWakeup() -> any Wakeup { NoWait() }

    /// Moves the time to `instant` (never back).
    public func advance(to instant: Int64) {
        precondition(instant >= now, "the simulated clock does not go back (\(now) → \(instant))")
        now = instant
    }

    private struct NoWait: Wakeup {
        func signal() {}
        func wait(until deadline: MonotonicInstant) -> Bool {
            preconditionFailure("a loop waited on the simulated clock: the simulation steps every loop itself")
        }
    }
}
