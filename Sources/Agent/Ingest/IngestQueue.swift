import Dispatch
import Synchronization
import TigerBeetle

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

    /// Appends one datagram; the caller has checked `canHold` (a write past the buffer would corrupt memory: checked in
    /// every build, one comparison a datagram).
    func append(_ bytes: UnsafeRawPointer, _ length: Int) {
        precondition(length >= 0 && canHold(length), "a datagram of \(length) bytes in a chunk with \(Self.capacity - used) free")
        base.storeBytes(of: UInt32(length), toByteOffset: used, as: UInt32.self)
        (base + used + 4).copyMemory(from: bytes, byteCount: length)
        used += 4 + length
        datagrams += 1
    }

    func forEachDatagram(_ body: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset < used {
            let length = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            assert(offset + 4 + length <= used, "a chunk's datagrams lie within what was written")
            body(UnsafeRawBufferPointer(start: base + offset + 4, count: length))
            offset += 4 + length
        }
    }

    func reset() {
        used = 0
        datagrams = 0
    }
}

/// The bounded hand-off between the UDP reader and the ingest thread. Chunks are allocated on demand, up to
/// `maxChunks`, and reused. When every chunk is in use the reader waits (up to `roomWait`) for the ingest thread to
/// give one back, and meanwhile datagrams wait in the socket's receive buffer: the queue and the socket's buffer
/// add up, and no core is spent reading datagrams only to drop them (that reading took the core ingest needed: a
/// sender offering ~6M lines/s flat out lost 1–3% to queue drops that way). If no chunk comes back in time, the
/// reader drops and counts datagrams until one does.
final class IngestQueue: @unchecked Sendable {
    private struct Shared {
        var ready: [DatagramChunk] = []
        var free: [DatagramChunk] = []
        var allocated = 0
        /// The reader is waiting for a chunk to come back.
        var readerWaiting = false
    }

    static let roomWait = Duration.seconds(1)

    let maxChunks: Int
    private let shared = Mutex(Shared())
    /// The ingest thread sleeps on it; the reader signals it when a chunk is ready.
    let wakeup: any Wakeup
    /// The reader sleeps on it while every chunk is in use; `recycle` signals it.
    private let room: any Wakeup
    private let clock: any AgentClock
    private let dropCount = Atomic<UInt64>(0)
    /// The chunk the reader is filling; touched only by the reader thread.
    private var filling: DatagramChunk?
    /// The reader waited `roomWait` in vain: it drops without waiting until a chunk is free. Reader thread only.
    private var overflowing = false

    init(maxBytes: Int = 32 << 20, clock: any AgentClock) {
        maxChunks = max(2, maxBytes / DatagramChunk.capacity)
        wakeup = clock.makeWakeup()
        room = clock.makeWakeup()
        self.clock = clock
    }

    var drops: UInt64 { dropCount.load(ordering: .relaxed) }

    /// Reader thread: adds one datagram.
    func append(_ bytes: UnsafeRawPointer, _ length: Int) {
        if let chunk = filling, !chunk.canHold(length) { flush() }
        if filling == nil { filling = nextChunk(room: length) }
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
        let readerWaiting = shared.withLock { state in
            state.free.append(chunk)
            defer { state.readerWaiting = false }
            return state.readerWaiting
        }
        if readerWaiting { room.signal() }
    }

    /// Reader thread: a chunk to fill, waiting up to `roomWait` for one while all are in use; nil when none came.
    private func nextChunk(room length: Int) -> DatagramChunk? {
        if let chunk = reclaimOrTakeFreeChunk(room: length, waiting: false) {
            overflowing = false
            return chunk
        }
        if overflowing { return nil }
        let deadline = clock.monotonic() + Self.roomWait
        while true {
            if let chunk = reclaimOrTakeFreeChunk(room: length, waiting: true) { return chunk }
            if !room.wait(until: deadline) { break }
        }
        overflowing = true
        return nil
    }

    /// The newest chunk the ingest thread has not taken yet, if it has room
    /// (so small batches share a chunk), else a free or new one. With `waiting`, a nil asks `recycle` for a signal.
    private func reclaimOrTakeFreeChunk(room length: Int, waiting: Bool) -> DatagramChunk? {
        shared.withLock { state -> DatagramChunk? in
            if let last = state.ready.last, last.canHold(length) { return state.ready.removeLast() }
            if let chunk = state.free.popLast() { return chunk }
            guard state.allocated < maxChunks else {
                if waiting { state.readerWaiting = true }
                return nil
            }
            state.allocated += 1
            return DatagramChunk()
        }
    }
}
