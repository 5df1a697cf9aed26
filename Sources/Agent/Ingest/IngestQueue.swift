import Dispatch
import Synchronization

/// Datagrams packed back to back (`[UInt32 length][bytes]...`) in one buffer.
final class DatagramChunk: @unchecked Sendable {
    static let capacity = 1 << 20

    let base: UnsafeMutableRawPointer
    var used = 0
    var datagrams = 0

    init() {
        base = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    func canHold(_ length: Int) -> Bool { used + 4 + length <= Self.capacity }

    func append(_ bytes: UnsafeRawPointer, _ length: Int) {
        base.storeBytes(of: UInt32(length), toByteOffset: used, as: UInt32.self)
        (base + used + 4).copyMemory(from: bytes, byteCount: length)
        used += 4 + length
        datagrams += 1
    }

    func forEachDatagram(_ body: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset < used {
            let length = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            body(UnsafeRawBufferPointer(start: base + offset + 4, count: length))
            offset += 4 + length
        }
    }

    func reset() {
        used = 0
        datagrams = 0
    }
}

/// The bounded hand-off between the UDP reader and the ingest thread. The
/// reader never waits: when every chunk is in use it drops the datagram and
/// counts it. Chunks are allocated on demand, up to `maxChunks`, and reused.
final class IngestQueue: @unchecked Sendable {
    private struct Shared {
        var ready: [DatagramChunk] = []
        var free: [DatagramChunk] = []
        var allocated = 0
    }

    let maxChunks: Int
    private let shared = Mutex(Shared())
    /// The ingest thread sleeps on it; the reader signals it when a chunk is ready.
    let wakeup: any Wakeup
    private let dropCount = Atomic<UInt64>(0)
    /// The chunk the reader is filling; touched only by the reader thread.
    private var filling: DatagramChunk?

    init(maxBytes: Int = 32 << 20, clock: any AgentClock = SystemClock()) {
        maxChunks = max(2, maxBytes / DatagramChunk.capacity)
        wakeup = clock.makeWakeup()
    }

    var drops: UInt64 { dropCount.load(ordering: .relaxed) }

    /// Reader thread: adds one datagram.
    func append(_ bytes: UnsafeRawPointer, _ length: Int) {
        if let chunk = filling, !chunk.canHold(length) { flush() }
        if filling == nil { filling = reclaimOrTakeFreeChunk(room: length) }
        guard let chunk = filling else {
            dropCount.add(1, ordering: .relaxed)
            return
        }
        chunk.append(bytes, length)
    }

    /// Reader thread: hands the chunk being filled to the ingest thread.
    func flush() {
        guard let chunk = filling, chunk.datagrams > 0 else { return }
        filling = nil
        shared.withLock { $0.ready.append(chunk) }
        wakeup.signal()
    }

    /// Ingest thread: the next chunk, waiting until `deadline` (or a stop signal) for one.
    func take(until deadline: MonotonicInstant) -> DatagramChunk? {
        if let chunk = takeReady() { return chunk }
        wakeup.wait(until: deadline)
        return takeReady()
    }

    private func takeReady() -> DatagramChunk? {
        shared.withLock { $0.ready.isEmpty ? nil : $0.ready.removeFirst() }
    }

    /// Ingest thread: gives a processed chunk back.
    func recycle(_ chunk: DatagramChunk) {
        chunk.reset()
        shared.withLock { $0.free.append(chunk) }
    }

    /// The newest chunk the ingest thread has not taken yet, if it has room
    /// (so small batches share a chunk), else a free or new one.
    private func reclaimOrTakeFreeChunk(room length: Int) -> DatagramChunk? {
        shared.withLock { state -> DatagramChunk? in
            if let last = state.ready.last, last.canHold(length) { return state.ready.removeLast() }
            if let chunk = state.free.popLast() { return chunk }
            guard state.allocated < maxChunks else { return nil }
            state.allocated += 1
            return DatagramChunk()
        }
    }
}
