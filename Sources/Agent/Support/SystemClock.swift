import Foundation
import Glibc
import TigerBeetle

/// The operating system's clocks: CLOCK_REALTIME for wall time, CLOCK_MONOTONIC for deadlines.
public struct SystemClock: AgentClock {
    public init() {}

    public func wall() -> WallInstant { WallInstant(nanosecondsSinceEpoch: Self.read(CLOCK_REALTIME)) }

    public func monotonic() -> MonotonicInstant { MonotonicInstant(nanoseconds: Self.read(CLOCK_MONOTONIC)) }

    public func makeWakeup() -> any Wakeup { SemaphoreWakeup(clock: self) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// A wake-up on the system clock: a semaphore waited on with the time left to the deadline, drained when it wakes.
final class SemaphoreWakeup: Wakeup {
    private let semaphore = DispatchSemaphore(value: 0)
    private let clock: SystemClock

    init(clock: SystemClock) {
        self.clock = clock
    }

    func signal() {
        semaphore.signal()
    }

    func wait(until deadline: MonotonicInstant) -> Bool {
        let woken: Bool
        if deadline == .distantFuture {
            semaphore.wait()
            woken = true
        } else {
            let left = max(0, (deadline - clock.monotonic()).nanoseconds)
            woken = semaphore.wait(timeout: .now() + .nanoseconds(Int(clamping: left))) == .success
        }
        // The signals given meanwhile wake it once, as on the virtual clock: counted, a fleet's thousands of probe
        // changes each woke the alert loop for an evaluation of every replica, back to back (2,400 replicas: a core).
        if woken { while semaphore.wait(timeout: .now()) == .success {} }
        return woken
    }
}
