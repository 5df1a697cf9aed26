import CNetShim
import Foundation
import Synchronization
import TigerBeetle

/// A named thread running a loop until stopped; `stop` signals the loop's wake-up and waits for the loop to return.
final class WorkerThread: Sendable {
    private let name: String
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// What the loop sleeps on, signalled by `stop` so the loop notices at once.
    private let wakeup: (any Wakeup)?

    init(name: String, wakeup: (any Wakeup)? = nil) {
        self.name = name
        self.wakeup = wakeup
    }

    /// Whether the loop should keep going.
    var isRunning: Bool { running.load(ordering: .relaxed) }

    /// Starts `loop`, which should return soon after `isRunning` turns false.
    func start(qualityOfService: QualityOfService = .default, _ loop: @escaping @Sendable () -> Void) {
        running.store(true, ordering: .relaxed)
        let thread = Thread { [finished, name] in
            // The name ps, top and /proc/<pid>/task/*/comm show (at most 15 bytes).
            _ = bw_set_thread_name(String(decoding: name.utf8.prefix(15), as: UTF8.self))
            loop()
            finished.signal()
        }
        thread.name = name
        thread.qualityOfService = qualityOfService
        thread.start()
    }

    /// Asks the loop to stop and waits until it has returned.
    func stop() {
        guard requestStop() else { return }
        finished.wait()
    }

    /// Lowers the flag and signals the wake-up; false when the loop was not running.
    @discardableResult
    func requestStop() -> Bool {
        guard running.exchange(false, ordering: .relaxed) else { return false }
        wakeup?.signal()
        return true
    }

    /// Waits until the loop (asked to stop) has returned, or `limit` (real time) passed.
    func join(waitingAtMost limit: Duration) -> Bool {
        finished.wait(timeout: .now() + .nanoseconds(Int(clamping: max(0, limit.nanoseconds)))) == .success
    }
}
