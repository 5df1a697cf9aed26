import TigerBeetle

/// Where the agent's loops read the time and wait: `SystemClock` in the agent, a virtual clock in tests, so every
/// loop (alert evaluation, notification retries and drains, ingest expiry, the prober's deadlines) runs on
/// virtual time there.
public protocol AgentClock: Sendable {
    /// The wall clock: the `now` the pure modules take. It may jump.
    func wall() -> WallInstant
    /// The monotonic clock: for deadlines and intervals.
    func monotonic() -> MonotonicInstant
    /// A new wake-up for one loop thread, waiting on this clock.
    func makeWakeup() -> any Wakeup
}

/// How one loop thread sleeps: until a deadline on its clock, or until another thread signals it (new work, a
/// reload, a stop). A signal given while the loop is busy is kept for its next wait; signals do not count: several
/// before a wait wake it once (every loop looks at what changed when it wakes).
public protocol Wakeup: Sendable {
    func signal()
    /// Returns true when woken by a signal, false when the deadline passed.
    @discardableResult
    func wait(until deadline: MonotonicInstant) -> Bool
}
