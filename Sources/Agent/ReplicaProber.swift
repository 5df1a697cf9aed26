import CNetShim
import Config
import Foundation
import Glibc
import Health
import MetricStore
import Probe
import Synchronization
import VSR

/// Probes every watched replica from one thread: each replica is a `ProbeSession` (the protocol and
/// its timing, pure), its socket non-blocking under one poll(2). Host names are resolved by
/// `NameResolver`'s two threads within the probe's deadline; IP literals at once. Three threads in
/// all, however many replicas.
final class ReplicaProber: Sendable {
    /// What is probed: replaced on reload, applied by the loop.
    struct Plan: Sendable, Equatable {
        var targets: [Target]
        var timing: ProbeTiming
    }

    struct Target: Sendable, Equatable {
        var key: ReplicaKey
        var address: String
    }

    /// The clocks the loop reads: monotonic for its schedule, wall for the results it publishes.
    struct Clock: Sendable {
        var monotonic: @Sendable () -> Int64 = WallClock.monotonic
        var wall: @Sendable () -> Int64 = WallClock.now
    }

    private let results = Mutex<[ReplicaKey: ProbeResult]>([:])
    private let pendingPlan: Mutex<Plan?>
    private let localErrors = Atomic<UInt64>(0)
    private let worker = WorkerThread(name: "probe")
    private let wake: (read: Int32, write: Int32)
    private let clock: Clock
    private let releaseHint: @Sendable (ReplicaKey) -> Release?
    private let onChange: @Sendable () -> Void
    private let resolver: NameResolver

    /// Probes not made for lack of local resources (EMFILE): the replica's last result stands.
    var localErrorCount: UInt64 { localErrors.load(ordering: .relaxed) }

    /// - Parameters:
    ///   - releaseHint: a replica's release from its StatsD, if any (read when connecting).
    ///   - onChange: called when a replica's outcome, view or release changes.
    init(clusters: [WatchedCluster], timing: ProbeTiming, clock: Clock = Clock(),
         releaseHint: @escaping @Sendable (ReplicaKey) -> Release? = { _ in nil }, onChange: @escaping @Sendable () -> Void = {}) {
        pendingPlan = Mutex(Self.plan(clusters, timing))
        self.clock = clock
        self.releaseHint = releaseHint
        self.onChange = onChange
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        wake = (fds[0], fds[1])
        resolver = NameResolver(wakeFD: fds[1])
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }

    static func plan(_ clusters: [WatchedCluster], _ timing: ProbeTiming) -> Plan {
        Plan(targets: clusters.flatMap { cluster in
            cluster.addresses.enumerated().map { Target(key: ReplicaKey(cluster: cluster.id, replica: $0), address: $1) }
        }, timing: timing)
    }

    /// The latest result of every replica probed so far, times on the wall clock.
    func snapshot() -> [ReplicaKey: ProbeResult] {
        results.withLock { $0 }
    }

    func start() {
        resolver.start()
        let loop = ProbeLoop(prober: self)
        worker.start { [worker] in
            while worker.isRunning { loop.runOnce() }
            loop.closeAll()
        }
    }

    /// Probes a new set of replicas, or with new timing (reload). Sessions of replicas whose address is
    /// unchanged go on, connection and result kept.
    func reconfigure(clusters: [WatchedCluster], timing: ProbeTiming) {
        pendingPlan.withLock { $0 = Self.plan(clusters, timing) }
        signalWake()
    }

    func stop() {
        worker.stop()
        resolver.stop()
    }

    private func signalWake() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// The loop's state, touched only by the loop's thread.
    private final class ProbeLoop: @unchecked Sendable {
        struct Probe {
            var target: Target
            var hostPort: HostPort?
            var session: ProbeSession
            var fd: Int32 = -1
            /// A connect is under way on `fd` (waiting for POLLOUT).
            var connecting = false
            /// The resolver request this probe waits for.
            var resolving: UInt64?
            /// Bytes not yet written (whole ping headers).
            var outbox: [UInt8] = []
        }

        unowned let prober: ReplicaProber
        var probes: [Probe] = []
        var index: [ReplicaKey: Int] = [:]
        var timing: ProbeTiming?
        var nextRequest: UInt64 = 0
        var waiting: [UInt64: Int] = [:]
        var pollSet: [pollfd] = []
        var pollOwner: [Int] = []
        var readBuffer = [UInt8](repeating: 0, count: 4096)
        var generator = SystemRandomNumberGenerator()

        init(prober: ReplicaProber) {
            self.prober = prober
        }

        func runOnce() {
            if let plan = prober.pendingPlan.withLock({ plan -> Plan? in defer { plan = nil }; return plan }) { apply(plan) }
            let now = prober.clock.monotonic()
            var deadline = Int64.max
            pollSet.removeAll(keepingCapacity: true)
            pollOwner.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: prober.wake.read, events: Int16(POLLIN), revents: 0))
            pollOwner.append(-1)
            for (i, probe) in probes.enumerated() {
                deadline = min(deadline, probe.session.nextDeadline)
                guard probe.fd >= 0 else { continue }
                let events = probe.connecting || !probe.outbox.isEmpty ? Int16(POLLOUT) : Int16(POLLIN)
                pollSet.append(pollfd(fd: probe.fd, events: probe.connecting ? events : events | Int16(POLLIN), revents: 0))
                pollOwner.append(i)
            }
            // Wake at the earliest deadline (rounded up to the millisecond), at least every 100 ms to notice a stop.
            let wait = deadline == .max ? 100 : Int32(clamping: min(100, max(0, (deadline - now + 999_999) / 1_000_000)))
            let ready = poll(&pollSet, nfds_t(pollSet.count), wait)
            let before = probes.map(\.session.result)
            if ready > 0 {
                for (slot, entry) in pollSet.enumerated() where entry.revents != 0 {
                    let owner = pollOwner[slot]
                    if owner < 0 { drainWake(); continue }
                    handle(owner, revents: entry.revents)
                }
            }
            deliverResolved()
            let after = prober.clock.monotonic()
            for i in probes.indices where after >= probes[i].session.nextDeadline {
                perform(probes[i].session.tick(now: after), on: i)
            }
            publish(changedFrom: before)
        }

        func apply(_ plan: Plan) {
            let now = prober.clock.monotonic()
            var kept: [Probe] = []
            let wanted = Set(plan.targets.map { "\($0.key.cluster)/\($0.key.replica)/\($0.address)" })
            for probe in probes {
                if wanted.contains("\(probe.target.key.cluster)/\(probe.target.key.replica)/\(probe.target.address)") {
                    kept.append(probe)
                } else {
                    closeSocket(of: probe)
                }
            }
            let keptKeys = Dictionary(uniqueKeysWithValues: kept.map { ($0.target.key, $0) })
            probes = []
            for (n, target) in plan.targets.enumerated() {
                if var probe = keptKeys[target.key] {
                    let commands = probe.session.update(plan.timing, now: now)
                    probes.append(probe)
                    perform(commands, on: probes.count - 1)
                    continue
                }
                // Replicas start spread over one interval, so their pings do not all go out at once.
                let start = now + plan.timing.interval / Int64(max(1, plan.targets.count)) * Int64(n)
                let cluster = UInt128(target.key.cluster, radix: 16) ?? 0
                probes.append(Probe(target: target, hostPort: HostPort(parsing: target.address),
                                    session: ProbeSession(cluster: cluster, client: ClientID.random(using: &generator), timing: plan.timing, start: start)))
            }
            index = Dictionary(uniqueKeysWithValues: probes.enumerated().map { ($1.target.key, $0) })
            waiting = waiting.filter { $0.value < probes.count }
            for i in probes.indices { if let id = probes[i].resolving { waiting[id] = i } }
            timing = plan.timing
            let live = Set(plan.targets.map(\.key))
            let keptResults = Set(keptKeys.keys)
            prober.results.withLock { results in
                for key in results.keys where !live.contains(key) || !keptResults.contains(key) { results[key] = nil }
            }
        }

        func perform(_ commands: [ProbeSession.Command], on i: Int) {
            for command in commands {
                switch command {
                case .connect: connect(i)
                case .send(let bytes): send(bytes, on: i)
                case .close: closeSocket(i)
                }
            }
        }

        func connect(_ i: Int) {
            let now = prober.clock.monotonic()
            probes[i].session.releaseHint = prober.releaseHint(probes[i].target.key)
            guard let hostPort = probes[i].hostPort else {
                probes[i].session.connectFailed("not a host:port address", now: now)
                return
            }
            if let address = try? SocketAddress.resolve(hostPort, socketType: BW_SOCK_STREAM, passive: false, numericOnly: true) {
                connect(i, to: address)
                return
            }
            nextRequest &+= 1
            probes[i].resolving = nextRequest
            waiting[nextRequest] = i
            prober.resolver.submit(NameResolver.Request(id: nextRequest, address: hostPort, deadline: now + probes[i].session.timing.timeout))
        }

        func connect(_ i: Int, to address: SocketAddress) {
            let fd = socket(address.family, BW_SOCK_STREAM | BW_SOCK_CLOEXEC | BW_SOCK_NONBLOCK, 0)
            guard fd >= 0 else { return failed(i, code: errno) }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 {
                probes[i].fd = fd
                perform(probes[i].session.connected(now: prober.clock.monotonic()), on: i)
                return
            }
            let code = errno
            guard code == EINPROGRESS else {
                close(fd)
                return failed(i, code: code)
            }
            probes[i].fd = fd
            probes[i].connecting = true
        }

        func failed(_ i: Int, code: Int32) {
            let now = prober.clock.monotonic()
            if TCPConnect.localResourceErrors.contains(code) {
                prober.localErrors.add(1, ordering: .relaxed)
                probes[i].session.couldNotTry(now: now)
            } else {
                probes[i].session.connectFailed(String(cString: strerror(code)), now: now)
            }
        }

        func send(_ bytes: [UInt8], on i: Int) {
            guard probes[i].fd >= 0, !probes[i].connecting else { return }
            // A replica that reads nothing (stopped) fills the socket's buffer: keep at most 16 pings queued.
            guard probes[i].outbox.count < 16 * PingClient.headerSize else { return }
            probes[i].outbox += bytes
            flush(i)
        }

        func flush(_ i: Int) {
            while !probes[i].outbox.isEmpty {
                let written = probes[i].outbox.withUnsafeBytes { Glibc.send(probes[i].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written > 0 {
                    probes[i].outbox.removeFirst(written)
                } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    return
                } else {
                    let reason = written < 0 ? String(cString: strerror(errno)) : "write failed"
                    closeSocket(i)
                    probes[i].session.closed(reason, now: prober.clock.monotonic())
                    return
                }
            }
        }

        func handle(_ i: Int, revents: Int16) {
            guard probes[i].fd >= 0 else { return }
            if probes[i].connecting {
                var error: Int32 = 0
                var length = socklen_t(4)
                getsockopt(probes[i].fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 {
                    closeSocket(i)
                    return failed(i, code: error)
                }
                guard revents & Int16(POLLOUT) != 0 else { return }
                probes[i].connecting = false
                perform(probes[i].session.connected(now: prober.clock.monotonic()), on: i)
                return
            }
            if revents & Int16(POLLOUT) != 0 { flush(i) }
            guard probes[i].fd >= 0, revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 else { return }
            let count = readBuffer.withUnsafeMutableBytes { recv(probes[i].fd, $0.baseAddress, $0.count, 0) }
            let now = prober.clock.monotonic()
            if count > 0 {
                perform(probes[i].session.received(readBuffer[0..<count], now: now), on: i)
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                let reason = count == 0 ? "end of file" : String(cString: strerror(errno))
                closeSocket(i)
                probes[i].session.closed(reason, now: now)
            }
        }

        func deliverResolved() {
            for (id, answer) in prober.resolver.takeAnswers() {
                guard let i = waiting.removeValue(forKey: id), i < probes.count, probes[i].resolving == id else { continue }
                probes[i].resolving = nil
                switch answer {
                case .success(let address): connect(i, to: address)
                case .failure(.noLocalResources):
                    prober.localErrors.add(1, ordering: .relaxed)
                    probes[i].session.couldNotTry(now: prober.clock.monotonic())
                case .failure(let failure): probes[i].session.connectFailed(failure.description, now: prober.clock.monotonic())
                }
            }
        }

        func closeSocket(_ i: Int) {
            closeSocket(of: probes[i])
            probes[i].fd = -1
            probes[i].connecting = false
            probes[i].outbox.removeAll()
            if let id = probes[i].resolving { waiting[id] = nil }
            probes[i].resolving = nil
        }

        func closeSocket(of probe: Probe) {
            if probe.fd >= 0 { close(probe.fd) }
        }

        func closeAll() {
            for i in probes.indices { closeSocket(i) }
        }

        func drainWake() {
            var bytes = [UInt8](repeating: 0, count: 64)
            while read(prober.wake.read, &bytes, bytes.count) > 0 {}
        }

        /// Copies changed results out, on the wall clock; wakes the alert loop when a verdict may change.
        func publish(changedFrom before: [ProbeResult?]) {
            var changed: [(ReplicaKey, ProbeResult)] = []
            var notable = false
            let offset = prober.clock.wall() - prober.clock.monotonic()
            for (i, probe) in probes.enumerated() {
                guard let result = probe.session.result, i >= before.count || before[i] != result else { continue }
                var published = result
                published.at += offset
                published.reachableSince = result.reachableSince.map { $0 + offset }
                changed.append((probe.target.key, published))
                let old = i < before.count ? before[i] : nil
                if old?.outcome != result.outcome || old?.view != result.view || old?.release != result.release { notable = true }
            }
            guard !changed.isEmpty else { return }
            prober.results.withLock { results in
                for (key, result) in changed { results[key] = result }
            }
            if notable { prober.onChange() }
        }
    }
}
