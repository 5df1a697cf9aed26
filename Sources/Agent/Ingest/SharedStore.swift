import MetricStore
import Synchronization
import TigerBeetle

/// The store, shared between the ingest thread (its only writer) and scrapes.
final class SharedStore: Sendable {
    private let store: Mutex<MetricStore>

    init(options: MetricStore.Options) {
        store = Mutex(MetricStore(options: options))
    }

    /// Applies a batch under one lock.
    func update(_ body: (inout MetricStore) -> Void) {
        store.withLock { body(&$0) }
    }

    /// Applies datagrams under one lock, as they arrived at `now`; whether what the health model reads changed.
    func ingest(now: WallInstant, _ datagrams: (_ apply: (UnsafeRawBufferPointer) -> Void) -> Void) -> Bool {
        store.withLock { store in
            let before = store.signals.generation
            datagrams { store.ingest(datagram: $0, now: now) }
            return store.signals.generation != before
        }
    }

    /// A copy of the store to render from: O(1) under the lock, copy-on-write after.
    func snapshot() -> MetricStore {
        store.withLock { $0 }
    }

    /// What the health model reads: the replicas' signals alone, not the series.
    func signals() -> TigerBeetleSignals {
        store.withLock { $0.signals }
    }
}
