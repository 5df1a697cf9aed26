import CNetShim
import Foundation
import Synchronization

/// A named thread running a loop until stopped; `stop` waits for the loop to return.
final class WorkerThread: Sendable {
    private let name: String
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String) {
        self.name = name
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
        guard running.exchange(false, ordering: .relaxed) else { return }
        finished.wait()
    }

    /// Asks the loop to stop and waits until it has returned or `deadline` (monotonic ns) passed;
    /// false if the loop was still busy then (a blocking call under way).
    func stop(waitingUntil deadline: Int64) -> Bool {
        guard running.exchange(false, ordering: .relaxed) else { return true }
        let left = max(0, deadline - WallClock.monotonic())
        return finished.wait(timeout: .now() + .nanoseconds(Int(left))) == .success
    }
}
