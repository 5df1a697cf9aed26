import Foundation
import Glibc
import Synchronization

/// A program a test runs in the background (Prometheus, Alertmanager, the built agent, openssl, ...), stopped when
/// the test is done with it whatever happened: by `stop()`, by `deinit` when its owner goes (a test that fails or
/// throws drops it), by a watchdog when it outlives `lifetime` (a test that hangs past its time limit), and at the
/// latest when the test process exits. `scripts/test` then checks that nothing started by the run is left.
///
/// Foundation starts each child in a process group of its own: stopping signals the whole group, so a shell's
/// children go with it.
public final class TestProcess: @unchecked Sendable {
    public let process = Process()
    /// How long it may run at most (a test's time limit is at most a few minutes).
    public let lifetime: Duration
    private let stopped = Mutex(false)

    /// Configures the process; `start()` runs it.
    public init(_ executable: String, _ arguments: [String], lifetime: Duration = .seconds(600)) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        self.lifetime = lifetime
    }

    public var pid: pid_t { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    /// Its exit status, once it has exited.
    public var terminationStatus: Int32 { process.terminationStatus }

    /// Runs it, registered with the watchdog and the exit hook.
    ///
    /// A child inherits the signal mask of the thread that spawns it, and the test runner's threads block SIGTERM
    /// among others (measured: SigBlk fffffffe3bfbea27 in a child spawned from a test): such a child can only be
    /// killed. It is spawned from a thread of its own with nothing blocked, so that it can be asked to stop.
    public func start() throws {
        let failure = Mutex<(any Error)?>(nil)
        let spawned = DispatchSemaphore(value: 0)
        let spawner = Thread { [process] in
            var nothing = sigset_t()
            sigemptyset(&nothing)
            pthread_sigmask(SIG_SETMASK, &nothing, nil)
            do { try process.run() } catch { failure.withLock { $0 = error } }
            spawned.signal()
        }
        spawner.name = "test-process-spawner"
        spawner.start()
        spawned.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        LiveTestProcesses.shared.add(self, deadline: .now + lifetime)
    }

    /// Sends `number` to the process itself.
    public func signal(_ number: Int32) {
        guard process.processIdentifier > 0, process.isRunning else { return }
        kill(process.processIdentifier, number)
    }

    /// Waits for it to exit by itself.
    public func waitUntilExit() { process.waitUntilExit() }

    /// SIGTERM to its process group, SIGKILL after `grace`; returns once it has exited. Idempotent.
    public func stop(grace: Duration = .seconds(5)) {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first, process.processIdentifier > 0 else { return }
        let pid = process.processIdentifier
        if process.isRunning {
            kill(-pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning { kill(-pid, SIGKILL) }
            process.waitUntilExit()
        }
        // Anything left in its group (a child that outlived its shell).
        kill(-pid, SIGKILL)
        LiveTestProcesses.shared.remove(pid)
    }

    deinit { stop() }
}

/// Every background process the tests started and have not stopped: stopped (with its process group) when it outlives
/// its deadline, and all of them when the test process exits. Held weakly: a process whose owner went was stopped then.
final class LiveTestProcesses: Sendable {
    static let shared = LiveTestProcesses()

    private struct Entry {
        weak var process: TestProcess?
        var deadline: ContinuousClock.Instant
    }

    private let live = Mutex<[pid_t: Entry]>([:])

    private init() {
        atexit { LiveTestProcesses.shared.stopAll() }
        let watchdog = Thread { [self] in
            while true {
                sleep(1)
                stopOverdue(now: .now)
            }
        }
        watchdog.name = "test-process-watchdog"
        watchdog.start()
    }

    func add(_ process: TestProcess, deadline: ContinuousClock.Instant) {
        live.withLock { $0[process.pid] = Entry(process: process, deadline: deadline) }
    }

    func remove(_ pid: pid_t) {
        _ = live.withLock { $0.removeValue(forKey: pid) }
    }

    private func stopOverdue(now: ContinuousClock.Instant) {
        let overdue = live.withLock { live in live.values.filter { $0.deadline <= now }.compactMap(\.process) }
        for process in overdue { process.stop(grace: .zero) }
    }

    private func stopAll() {
        for process in live.withLock({ $0.values.compactMap(\.process) }) { process.stop(grace: .zero) }
    }
}
