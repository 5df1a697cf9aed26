import Foundation

/// Runs `body` on a thread of its own and waits for it without holding one of the test pool's threads. A loop that
/// measures wall time (scrapes every 100 ms, say) must not wait for that pool: on a 2-core machine it has two threads,
/// and two tests blocking them once left such a loop one scrape in 4 s.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
