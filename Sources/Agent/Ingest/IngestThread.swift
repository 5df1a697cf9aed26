import Foundation
import Logging
import MetricStore

/// The ingest thread: takes chunks of datagrams from the queue, applies them
/// to the store, and expires stale series once a second.
final class IngestThread: @unchecked Sendable {
    private let queue: IngestQueue
    private let state: SharedStore
    private let worker = WorkerThread(name: "statsd-ingest")

    /// Called (on the ingest thread) when a batch changed what the health model reads.
    private let onSignalsChanged: @Sendable () -> Void

    init(queue: IngestQueue, state: SharedStore, onSignalsChanged: @escaping @Sendable () -> Void = {}) {
        self.queue = queue
        self.state = state
        self.onSignalsChanged = onSignalsChanged
    }

    func start() {
        worker.start { [self] in loop() }
    }

    /// Stops after applying what is already queued.
    func stop() {
        worker.stop()
    }

    private func loop() {
        var lastExpiry = WallClock.monotonic()
        while true {
            let active = worker.isRunning
            if let chunk = queue.take(timeout: .milliseconds(active ? 200 : 0)) {
                let now = WallClock.now()
                var changed = false
                state.update { store in
                    let before = store.signals.generation
                    chunk.forEachDatagram { store.ingest(datagram: $0, now: now) }
                    changed = store.signals.generation != before
                }
                queue.recycle(chunk)
                if changed { onSignalsChanged() }
            } else if !active {
                return
            }
            let tick = WallClock.monotonic()
            if tick - lastExpiry >= 1_000_000_000 {
                lastExpiry = tick
                let now = WallClock.now()
                state.update { $0.expire(now: now) }
            }
        }
    }
}
