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

/// A wake-up on the system clock: a semaphore waited on with the time left to the deadline.
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
        if deadline == .distantFuture {
            semaphore.wait()
            return true
        }
        let left = max(0, (deadline - clock.monotonic()).nanoseconds)
        return semaphore.wait(timeout: .now() + .nanoseconds(Int(clamping: left))) == .success
    }
}
