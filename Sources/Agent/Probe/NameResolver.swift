import Config
import Foundation
import Glibc
import Synchronization
import TigerBeetle

/// Resolves host names for the prober off its loop: getaddrinfo blocks, so a few threads call it, keep
/// each answer for `takeAnswers` and wake the prober's network wait. A request the prober has given up on (its deadline passed)
/// is dropped unanswered when a thread reaches it. Numeric addresses never come here.
final class NameResolver: Sendable {
    private let pending = Mutex<[NameRequest]>([])
    private let available = DispatchSemaphore(value: 0)
    private let workers: [WorkerThread]
    private let started = Atomic<Bool>(false)
    private let answers = Mutex<[(id: UInt64, answer: Result<SocketAddress, NameFailure>)]>([])
    private let wake: @Sendable () -> Void
    /// The prober's clock: a request's deadline is on it.
    private let clock: any AgentClock

    static let threads = 2

    /// - Parameter wake: called when an answer is ready.
    init(wake: @escaping @Sendable () -> Void, clock: any AgentClock) {
        self.clock = clock
        self.wake = wake
        workers = (0..<Self.threads).map { WorkerThread(name: "probe-dns-\($0)") }
    }

    /// Starts its threads, once (at the first name to resolve: most configurations name no host).
    func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        for worker in workers {
            worker.start { [self] in
                while worker.isRunning {
                    // Woken by a request, or by `stop` (one signal per thread).
                    available.wait()
                    guard let request = pending.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                    guard clock.monotonic() < request.deadline else { continue }
                    let answer = TCPConnect.resolve(request.address).mapError { failure -> NameFailure in
                        if case .noLocalResources(let reason) = failure { return .noLocalResources(reason) }
                        return .unresolvable(host: request.address.host)
                    }
                    answers.withLock { $0.append((request.id, answer)) }
                    wake()
                }
            }
        }
    }

    func submit(_ request: NameRequest) {
        start()
        pending.withLock { $0.append(request) }
        available.signal()
    }

    /// The answers ready since the last call.
    func takeAnswers() -> [(id: UInt64, answer: Result<SocketAddress, NameFailure>)] {
        answers.withLock { answers in
            defer { answers.removeAll() }
            return answers
        }
    }

    func stop() {
        guard started.load(ordering: .relaxed) else { return }
        // Every flag down before any thread is woken, so that no woken thread goes back to sleep.
        for worker in workers { worker.requestStop() }
        for _ in workers { available.signal() }
        for worker in workers { _ = worker.join(waitingAtMost: .milliseconds(200)) }
    }
}
