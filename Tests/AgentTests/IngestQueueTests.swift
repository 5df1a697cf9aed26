import AgentTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing
import TigerBeetle

@testable import Agent

/// The reader's side of the queue on virtual time: with every chunk in use it waits for the ingest thread to give
/// one back (datagrams meanwhile wait in the socket's buffer) rather than reading them only to drop them; after
/// `roomWait` in vain it drops and counts, without waiting again until a chunk is free.
@Suite(.timeLimit(.minutes(1))) struct IngestQueueTests {
    /// A datagram that fills a chunk of its own.
    static let large = [UInt8](repeating: UInt8(ascii: "a"), count: DatagramChunk.capacity - 8)

    /// Two chunks, both handed to the ingest thread and not taken back yet.
    func fullQueue(clock: VirtualClock) -> IngestQueue {
        let queue = IngestQueue(maxBytes: 2 * DatagramChunk.capacity, clock: clock)
        for _ in 0..<2 { append(Self.large, to: queue) }
        // The ingest thread's wake-up, taken (there is no ingest thread here: the test takes and recycles).
        _ = queue.wakeup.wait(until: clock.monotonic())
        return queue
    }

    func append(_ bytes: [UInt8], to queue: IngestQueue) {
        bytes.withUnsafeBytes { queue.append($0.baseAddress!, bytes.count) }
        queue.flush()
    }

    /// Runs `body` as the reader thread; the returned semaphore is signalled when it is done.
    func reader(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body()
            done.signal()
        }.start()
        return done
    }

    @Test func aFullQueueHoldsTheReaderUntilTheIngestThreadGivesAChunkBack() throws {
        let clock = VirtualClock()
        let queue = fullQueue(clock: clock)
        let done = reader { append([UInt8]("app.requests:1|c".utf8), to: queue) }
        clock.settle(loops: 1)  // the reader asleep, waiting for room
        #expect(done.wait(timeout: .now()) == .timedOut)

        let first = try #require(queue.take(until: clock.monotonic()))
        queue.recycle(first)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(queue.drops == 0)
        #expect(clock.monotonic() == MonotonicInstant(nanoseconds: 0), "no time passed: woken by the recycled chunk")
        // The datagram went into the chunk given back, after the one still queued.
        let second = try #require(queue.take(until: clock.monotonic()))
        let third = try #require(queue.take(until: clock.monotonic()))
        #expect(second.datagrams == 1 && second.used == Self.large.count + 4)
        #expect(third === first && third.datagrams == 1 && third.used == 4 + 16)
    }

    @Test func aReaderWaitsOnceThenDropsUntilAChunkIsFree() throws {
        let clock = VirtualClock()
        let queue = fullQueue(clock: clock)
        let line = [UInt8]("app.requests:1|c".utf8)
        let done = reader {
            append(line, to: queue)  // waits roomWait, then dropped
            append(line, to: queue)  // dropped at once: no second wait
        }
        clock.settle(loops: 1)
        clock.advance(by: IngestQueue.roomWait - .milliseconds(1), loops: 1)
        #expect(queue.drops == 0, "still waiting just before roomWait")
        clock.advance(by: .milliseconds(1), loops: 0)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(queue.drops == 2)
        #expect(clock.monotonic() == MonotonicInstant(nanoseconds: IngestQueue.roomWait.nanoseconds))

        // Once a chunk is free again, datagrams are kept.
        queue.recycle(try #require(queue.take(until: clock.monotonic())))
        append(line, to: queue)
        #expect(queue.drops == 2)
    }
}
