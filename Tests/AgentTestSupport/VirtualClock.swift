import Agent
import Foundation
import TigerBeetle

/// A clock the test moves. Loops sleep on its wake-ups; `advance(by:)` moves the time, wakes every loop whose deadline
/// came, and returns once all of them are asleep again (each with a deadline still ahead, no signal pending): the
/// work those seconds call for is done when it returns. No wall-clock wait decides anything.
public final class VirtualClock: AgentClock, @unchecked Sendable {
    private let condition = NSCondition()
    private var monotonicNow: MonotonicInstant = .zero
    private let wallStart: WallInstant
    /// The loops asleep now, by wake-up: their deadline.
    private var sleepers: [ObjectIdentifier: MonotonicInstant] = [:]
    private var signalled: Set<ObjectIdentifier> = []

    /// - Parameter wallStart: the wall time at virtual zero; a fixed date by default.
    public init(wallStart: WallInstant = WallInstant(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)) {
        self.wallStart = wallStart
    }

    /// The start plus the virtual time since (checked: it cannot overflow).
    public func wall() -> WallInstant {
        condition.withLock { WallClockOffset(wall: wallStart, monotonic: .zero).wall(monotonicNow) }
    }

    public func monotonic() -> MonotonicInstant {
        condition.withLock { monotonicNow }
    }

    public func makeWakeup() -> any Wakeup { VirtualWakeup(clock: self) }

    /// How many loops are asleep on this clock.
    public var sleeping: Int { condition.withLock { sleepers.count } }

    /// Moves the time forward and waits until the loops it woke are asleep again.
    /// - Parameter loops: how many loops must be asleep when it returns (those started on this clock); it waits for
    ///   them to get there first, so an advance never races a loop still starting.
    public func advance(by duration: Duration, loops: Int) {
        settle(loops: loops)
        condition.withLock {
            monotonicNow += duration
            condition.broadcast()
        }
        settle(loops: loops)
    }

    /// Waits until `loops` loops are asleep with their deadlines ahead and no signal pending (work handed to them done).
    /// Fails the test (by trapping the wait) only after 10 real seconds: a loop stuck elsewhere is a bug to see.
    public func settle(loops: Int) {
        let limit = Date().addingTimeInterval(10)
        condition.lock()
        defer { condition.unlock() }
        while !(sleepers.count >= loops && signalled.isEmpty && sleepers.values.allSatisfy({ $0 > monotonicNow })) {
            guard condition.wait(until: limit) else {
                preconditionFailure(
                    "virtual clock: \(sleepers.count) of \(loops) loops asleep, \(signalled.count) signals pending after 10 s")
            }
        }
    }

    fileprivate func signal(_ id: ObjectIdentifier) {
        condition.withLock {
            signalled.insert(id)
            condition.broadcast()
        }
    }

    fileprivate func wait(_ id: ObjectIdentifier, until deadline: MonotonicInstant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if signalled.remove(id) != nil {
                sleepers[id] = nil
                condition.broadcast()
                return true
            }
            if monotonicNow >= deadline {
                sleepers[id] = nil
                condition.broadcast()
                return false
            }
            sleepers[id] = deadline
            condition.broadcast()
            condition.wait()
        }
    }
}

/// One loop's wake-up on a `VirtualClock`. Signals do not count: several before a wait wake it once.
final class VirtualWakeup: Wakeup, @unchecked Sendable {
    private let clock: VirtualClock

    init(clock: VirtualClock) {
        self.clock = clock
    }

    func signal() {
        clock.signal(ObjectIdentifier(self))
    }

    func wait(until deadline: MonotonicInstant) -> Bool {
        clock.wait(ObjectIdentifier(self), until: deadline)
    }
}
