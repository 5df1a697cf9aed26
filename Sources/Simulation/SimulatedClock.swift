import Agent
import TigerBeetle

/// The simulation's clock: time moves only when the simulation moves it (`advance(to:)`), between steps. The agent's
/// parts read it as they read the system clock; no loop sleeps on it (the simulation steps them), so a wake-up's wait
/// is a defect, and traps.
public final class SimulatedClock: AgentClock, @unchecked Sendable {
    /// The time since the simulation started, on its monotonic clock (zero at the start).
    public private(set) var now: MonotonicInstant = .zero
    /// The wall time at zero: 2027-01-15 08:00:00 UTC.
    public let wallStart = WallInstant(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)

    public init() {}

    /// The wall clock, which never jumps here: the start plus the time since (checked: it cannot overflow).
    public func wall() -> WallInstant { WallClockOffset(wall: wallStart, monotonic: .zero).wall(now) }
    public func monotonic() -> MonotonicInstant { now }
    public func makeWakeup() -> any Wakeup { NoWait() }

    /// Moves the time to `instant` (never back).
    public func advance(to instant: MonotonicInstant) {
        precondition(instant >= now, "the simulated clock does not go back (\(now.nanoseconds) → \(instant.nanoseconds))")
        now = instant
    }

    private struct NoWait: Wakeup {
        func signal() {}
        func wait(until deadline: MonotonicInstant) -> Bool {
            preconditionFailure("a loop waited on the simulated clock: the simulation steps every loop itself")
        }
    }
}
