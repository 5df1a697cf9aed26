import CNetShim
import Config
import Foundation
import Glibc
import Health
import Probe
import Synchronization
import TigerBeetle
import VSR

/// `ReplicaProber`'s loop: every session, socket and deadline, touched only by the `probe` thread. It tells each
/// `ProbeSession` what happened (connected, bytes, closed, time passed) and does what the session answers.
final class ProbeLoop: @unchecked Sendable {
    struct Probe {
        var target: ReplicaProber.Target
        var hostPort: HostPort?
        var session: ProbeSession
        var fd: Int32 = -1
        /// A connect is under way on `fd` (waiting for EPOLLOUT).
        var connecting = false
        /// The resolver request this probe waits for.
        var resolving: UInt64?
        /// Bytes not yet written (whole ping headers).
        var outbox: [UInt8] = []
        /// The epoll events `fd` is registered for (0: not registered).
        var registered: UInt32 = 0
        /// The result last published.
        var published: ProbeResult?
    }

    /// Timers are served on this grid (ns): replicas whose deadlines fall in the same 10 ms are handled in
    /// one wake-up, so 1,000 replicas cost at most 100 timer wake-ups a second, not 1,000.
    static let timerGrid: Int64 = 10_000_000

    unowned let prober: ReplicaProber
    let epoll: Int32
    var probes: [Probe] = []
    /// Each probe's next deadline, scanned on every wake-up (a flat array: cheap to scan).
    var deadlines: [Int64] = []
    var owner: [Int32: Int] = [:]
    var dirty: [Int] = []
    var isDirty: [Bool] = []
    var nextRequest: UInt64 = 0
    var waiting: [UInt64: Int] = [:]
    var readyFDs = [Int32](repeating: 0, count: 256)
    var readyEvents = [UInt32](repeating: 0, count: 256)
    var readBuffer = [UInt8](repeating: 0, count: 4096)
    var generator = SystemRandomNumberGenerator()

    init(prober: ReplicaProber) {
        self.prober = prober
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        _ = bw_epoll_set(epoll, BW_EPOLL_CTL_ADD, prober.wake.read, BW_EPOLLIN)
    }

    deinit { close(epoll) }

    func runOnce() {
        if let plan = prober.pendingPlan.withLock({ plan -> ReplicaProber.Plan? in
            defer { plan = nil }
            return plan
        }) {
            apply(plan)
        }
        let now = prober.clock.monotonic().nanoseconds
        let earliest = deadlines.min() ?? .max
        // Until the earliest session deadline (rounded up to the timer grid), or the wake-up pipe (a reload, a resolved
        // name, a stop): no replicas, no wake-ups.
        var wait: Int32 = -1
        if earliest != .max {
            let due = earliest.addingSaturating(Self.timerGrid - 1) / Self.timerGrid * Self.timerGrid
            wait = Int32(clamping: max(0, due.subtractingSaturating(now).addingSaturating(999_999) / 1_000_000))
        }
        let ready = bw_epoll_wait(epoll, &readyFDs, &readyEvents, Int32(readyFDs.count), wait)
        for n in 0..<max(0, Int(ready)) {
            let fd = readyFDs[n]
            if fd == prober.wake.read {
                drainWake()
            } else if let i = owner[fd] {
                handle(i, events: readyEvents[n])
            }
        }
        deliverResolved()
        let after = prober.clock.monotonic().nanoseconds
        for i in deadlines.indices where after >= deadlines[i] {
            perform(probes[i].session.tick(now: after), on: i)
        }
        publish()
    }

    func markDirty(_ i: Int) {
        deadlines[i] = probes[i].session.nextDeadline
        guard !isDirty[i] else { return }
        isDirty[i] = true
        dirty.append(i)
    }

    func apply(_ plan: ReplicaProber.Plan) {
        let now = prober.clock.monotonic().nanoseconds
        var kept: [ReplicaKey: Probe] = [:]
        let wanted = Set(plan.targets)
        for i in probes.indices {
            if wanted.contains(probes[i].target) {
                kept[probes[i].target.key] = probes[i]
            } else {
                closeSocket(i)
            }
        }
        probes = []
        var pending: [(Int, [ProbeSession.Command])] = []
        for (n, target) in plan.targets.enumerated() {
            if var probe = kept[target.key] {
                pending.append((probes.count, probe.session.update(plan.timing, now: now)))
                probes.append(probe)
                continue
            }
            // Replicas start spread over one interval, so their pings do not all go out at once.
            let start = now + plan.timing.interval / Int64(max(1, plan.targets.count)) * Int64(n)
            let cluster = ClusterID.value(hex: target.key.cluster) ?? 0
            probes.append(
                Probe(
                    target: target, hostPort: HostPort(parsing: target.address),
                    session: ProbeSession(
                        cluster: cluster, client: ClientID.random(using: &generator), timing: plan.timing, start: start)))
        }
        owner = [:]
        waiting = [:]
        for i in probes.indices {
            if probes[i].fd >= 0 { owner[probes[i].fd] = i }
            if let id = probes[i].resolving { waiting[id] = i }
        }
        deadlines = probes.map(\.session.nextDeadline)
        isDirty = Array(repeating: false, count: probes.count)
        dirty = []
        for (i, commands) in pending { perform(commands, on: i) }
        let live = Set(kept.keys)
        prober.results.withLock { results in
            for key in results.keys where !live.contains(key) { results[key] = nil }
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
        markDirty(i)
    }

    func connect(_ i: Int) {
        let now = prober.clock.monotonic().nanoseconds
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
        prober.resolver.submit(
            NameResolver.Request(
                id: nextRequest, address: hostPort,
                deadline: MonotonicInstant(nanoseconds: now.addingSaturating(probes[i].session.timing.timeout))))
    }

    func connect(_ i: Int, to address: SocketAddress) {
        let fd = socket(address.family, BW_SOCK_STREAM | BW_SOCK_CLOEXEC | BW_SOCK_NONBLOCK, 0)
        guard fd >= 0 else { return failed(i, code: errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 {
            attach(fd, to: i, connecting: false)
            perform(probes[i].session.connected(now: prober.clock.monotonic().nanoseconds), on: i)
            return
        }
        let code = errno
        guard code == EINPROGRESS else {
            close(fd)
            return failed(i, code: code)
        }
        attach(fd, to: i, connecting: true)
    }

    func attach(_ fd: Int32, to i: Int, connecting: Bool) {
        probes[i].fd = fd
        probes[i].connecting = connecting
        owner[fd] = i
        register(i)
    }

    /// Registers the probe's socket for what it waits for: the connect, bytes to write, replies.
    func register(_ i: Int) {
        guard probes[i].fd >= 0 else { return }
        let wanted = probes[i].connecting ? BW_EPOLLOUT : BW_EPOLLIN | (probes[i].outbox.isEmpty ? 0 : BW_EPOLLOUT)
        guard wanted != probes[i].registered else { return }
        _ = bw_epoll_set(epoll, probes[i].registered == 0 ? BW_EPOLL_CTL_ADD : BW_EPOLL_CTL_MOD, probes[i].fd, wanted)
        probes[i].registered = wanted
    }

    func failed(_ i: Int, code: Int32) {
        let now = prober.clock.monotonic().nanoseconds
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
                break
            } else {
                let reason = written < 0 ? String(cString: strerror(errno)) : "write failed"
                closeSocket(i)
                probes[i].session.closed(reason, now: prober.clock.monotonic().nanoseconds)
                return
            }
        }
        register(i)
    }

    func handle(_ i: Int, events: UInt32) {
        guard probes[i].fd >= 0 else { return }
        defer { markDirty(i) }
        if probes[i].connecting {
            var error: Int32 = 0
            var length = socklen_t(4)
            getsockopt(probes[i].fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 {
                closeSocket(i)
                return failed(i, code: error)
            }
            guard events & BW_EPOLLOUT != 0 else { return }
            probes[i].connecting = false
            register(i)
            perform(probes[i].session.connected(now: prober.clock.monotonic().nanoseconds), on: i)
            return
        }
        if events & BW_EPOLLOUT != 0 { flush(i) }
        guard probes[i].fd >= 0, events & (BW_EPOLLIN | BW_EPOLLERR | BW_EPOLLHUP) != 0 else { return }
        let count = readBuffer.withUnsafeMutableBytes { recv(probes[i].fd, $0.baseAddress, $0.count, 0) }
        let now = prober.clock.monotonic().nanoseconds
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
                probes[i].session.couldNotTry(now: prober.clock.monotonic().nanoseconds)
            case .failure(let failure): probes[i].session.connectFailed(failure.description, now: prober.clock.monotonic().nanoseconds)
            }
            markDirty(i)
        }
    }

    func closeSocket(_ i: Int) {
        if probes[i].fd >= 0 {
            owner[probes[i].fd] = nil
            close(probes[i].fd)  // also leaves the epoll set
        }
        probes[i].fd = -1
        probes[i].registered = 0
        probes[i].connecting = false
        probes[i].outbox.removeAll()
        if let id = probes[i].resolving { waiting[id] = nil }
        probes[i].resolving = nil
    }

    func closeAll() {
        for i in probes.indices { closeSocket(i) }
    }

    func drainWake() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(prober.wake.read, &bytes, bytes.count) > 0 {}
    }

    /// Copies the results that changed out, on the wall clock; wakes the alert loop when a verdict may change.
    func publish() {
        guard !dirty.isEmpty else { return }
        var changed: [(ReplicaKey, ProbeResult)] = []
        var notable = false
        let offset = prober.clock.unixNanoseconds() - prober.clock.monotonic().nanoseconds
        for i in dirty {
            isDirty[i] = false
            guard let result = probes[i].session.result, result != probes[i].published else { continue }
            let old = probes[i].published
            probes[i].published = result
            var published = result
            published.at += offset
            published.reachableSince = result.reachableSince.map { $0 + offset }
            changed.append((probes[i].target.key, published))
            if old?.outcome != result.outcome || old?.view != result.view || old?.release != result.release { notable = true }
        }
        dirty.removeAll(keepingCapacity: true)
        guard !changed.isEmpty else { return }
        prober.results.withLock { results in
            for (key, result) in changed { results[key] = result }
        }
        if notable { prober.onChange() }
    }
}
