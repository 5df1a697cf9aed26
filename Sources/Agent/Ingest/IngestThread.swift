import Foundation
import Logging
import MetricStore
import TigerBeetle

/// The ingest thread: takes chunks of datagrams from the queue, applies them to the store, and expires stale
/// series once a second (on its clock).
final class IngestThread: Sendable {
    static let expiryInterval: Duration = .seconds(1)

    private let queue: IngestQueue
    private let store: SharedStore
    private let clock: any AgentClock
    private let worker: WorkerThread

    /// Called (on the ingest thread) when a batch changed what the health model reads.
    private let onSignalsChanged: @Sendable () -> Void

    init(queue: IngestQueue, store: SharedStore, clock: any AgentClock, onSignalsChanged: @escaping @Sendable () -> Void = {}) {
        self.queue = queue
        self.store = store
        self.clock = clock
        self.onSignalsChanged = onSignalsChanged
        worker = WorkerThread(name: "statsd-ingest", wakeup: queue.wakeup)
    }

    func start() {
        worker.start { [self] in loop() }
    }

    /// Stops after applying what is already queued.
    func stop() {
        worker.stop()
    }

    private func loop() {
        var nextExpiry = clock.monotonic() + Self.expiryInterval
        while true {
            let active = worker.isRunning
            // Stopping: drain what is queued without waiting.
            if let chunk = queue.take(until: active ? nextExpiry : MonotonicInstant(nanoseconds: .min)) {
                let changed = store.ingest(now: clock.wall()) { chunk.forEachDatagram($0) }
                queue.recycle(chunk)
                if changed { onSignalsChanged() }
            } else if !active {
                return
            }
            if clock.monotonic() >= nextExpiry {
                nextExpiry = clock.monotonic() + Self.expiryInterval
                let now = clock.wall()
                store.update { $0.expire(now: now) }
            }
        }
    }
}
