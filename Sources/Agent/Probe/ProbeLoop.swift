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
/// `ProbeSession` (one a replica) and each `CanarySession` (one a watched cluster, a connection to each of its replicas)
/// what happened on its connections (connected, bytes, closed, time passed) and does what the session answers.
/// Connections live in slots named by an `Endpoint`, whoever drives them, and go through the prober's `ProbeNetwork`
/// (epoll in the agent, simulated in beetlewatch-sim): this loop makes no system call of its own.
final class ProbeLoop: @unchecked Sendable {
    /// A connection and what it waits for.
    struct Slot {
        var hostPort: HostPort?
        var connection: NetworkConnection?
        /// A connect is under way on `connection` (waiting for it to be writable).
        var connecting = false
        /// The resolver request this slot waits for.
        var resolving: UInt64?
        /// Bytes not yet written (whole messages).
        var outbox: [UInt8] = []
    }

    /// Whose a slot is: a replica's probe, or a cluster's canary's connection to one replica.
    enum Endpoint: Hashable {
        case probe(Int)
        case canary(Int, replica: Int)
    }

    struct Probe {
        var target: ReplicaProber.Target
        var slot: Slot
        var session: ProbeSession
        /// The session's result last published, on the session's clock (compared with its next).
        var published: ProbeFindings<MonotonicInstant>?
    }

    struct Canary {
        var target: ReplicaProber.CanaryTarget
        var slots: [Slot]
        var session: CanarySession
        /// The session's result last published, on the session's clock (compared with its next).
        var published: CanaryFindings<MonotonicInstant>?
        /// Connections closed for what they sent, logged so far (each is logged: the backoff bounds them).
        var refusalsLogged: UInt64 = 0
    }

    /// Timers are served on this grid: replicas whose deadlines fall in the same 10 ms are handled in
    /// one wake-up, so 1,000 replicas cost at most 100 timer wake-ups a second, not 1,000.
    static let timerGrid: Duration = .milliseconds(10)
    /// Bytes queued on one socket at most: a replica that reads nothing (stopped) fills its buffer.
    static let maxOutbox = 16 * 512

    unowned let prober: ReplicaProber
    let network: any ProbeNetwork
    var probes: [Probe] = []
    var canaries: [Canary] = []
    /// Each probe's and canary's next deadline, scanned on every wake-up (flat arrays: cheap to scan).
    var deadlines: [MonotonicInstant] = []
    var canaryDeadlines: [MonotonicInstant] = []
    var owner: [NetworkConnection: Endpoint] = [:]
    var dirty: [Int] = []
    var isDirty: [Bool] = []
    var canariesDirty = false
    var nextRequest: UInt64 = 0
    var waiting: [UInt64: Endpoint] = [:]
    var events: [(NetworkConnection, NetworkEvents)] = []
    var readBuffer = [UInt8](repeating: 0, count: 4096)
    var generator = SystemRandomNumberGenerator()
    /// How long a name may take to resolve: the probe's timeout.
    var resolveTimeout: Duration = .seconds(1)

    /// The prober's thread (or the simulator's): sessions, slots and the network's tables are touched by it alone.
    private var confinement = ThreadConfinement()

    init(prober: ReplicaProber) {
        self.prober = prober
        network = prober.network
    }

    subscript(slot endpoint: Endpoint) -> Slot {
        get {
            switch endpoint {
            case .probe(let i): probes[i].slot
            case .canary(let c, let r): canaries[c].slots[r]
            }
        }
        set {
            switch endpoint {
            case .probe(let i): probes[i].slot = newValue
            case .canary(let c, let r): canaries[c].slots[r] = newValue
            }
        }
    }

    func runOnce() {
        confinement.check("the probe loop")
        if let plan = prober.pendingPlan.withLock({ plan -> ReplicaProber.Plan? in
            defer { plan = nil }
            return plan
        }) {
            apply(plan)
        }
        let now = prober.clock.monotonic()
        let earliest = min(deadlines.min() ?? .distantFuture, canaryDeadlines.min() ?? .distantFuture)
        // Until the earliest session deadline (rounded up to the timer grid), or the wake-up pipe (a reload, a resolved
        // name, a stop): no replicas, no wake-ups.
        var wait: Int32 = -1
        if earliest != .distantFuture {
            let grid = Self.timerGrid.nanoseconds
            let due = earliest.nanoseconds.addingSaturating(grid - 1) / grid * grid
            wait = Int32(clamping: max(0, due.subtractingSaturating(now.nanoseconds).addingSaturating(999_999) / 1_000_000))
        }
        _ = network.wait(milliseconds: wait, events: &events)
        for (connection, happened) in events {
            if let endpoint = owner[connection] { handle(endpoint, events: happened) }
        }
        deliverResolved()
        let after = prober.clock.monotonic()
        for i in deadlines.indices where after >= deadlines[i] {
            perform(probes[i].session.tick(now: after, path: path(of: probes[i].slot)), on: i)
        }
        for c in canaryDeadlines.indices where after >= canaryDeadlines[c] {
            canaries[c].session.release = release(of: canaries[c].target.cluster)
            let viaPath = canaries[c].session.forwardCheckDue(at: after).flatMap { path(of: canaries[c].slots[$0]) }
            perform(canaries[c].session.tick(now: after, viaPath: viaPath), canary: c)
        }
        publish()
    }

    func markDirty(_ i: Int) {
        deadlines[i] = probes[i].session.nextDeadline
        guard !isDirty[i] else { return }
        isDirty[i] = true
        dirty.append(i)
    }

    func markCanaryDirty(_ c: Int) {
        canaryDeadlines[c] = canaries[c].session.nextDeadline
        canariesDirty = true
    }

    func apply(_ plan: ReplicaProber.Plan) {
        let now = prober.clock.monotonic()
        resolveTimeout = plan.timing.timeout
        var kept: [ReplicaKey: Probe] = [:]
        let wanted = Set(plan.targets)
        for i in probes.indices {
            if wanted.contains(probes[i].target) {
                kept[probes[i].target.key] = probes[i]
            } else {
                closeSocket(.probe(i))
            }
        }
        // A canary goes on while its cluster's addresses are the same (the session and its connections); one that was
        // evicted is made anew: a reload is how an operator tells it to register again.
        var keptCanaries: [String: Canary] = [:]
        let wantedCanaries = Set(plan.canaries.map { [$0.cluster] + $0.addresses })
        for c in canaries.indices {
            if wantedCanaries.contains([canaries[c].target.cluster] + canaries[c].target.addresses) && !canaries[c].session.isEvicted {
                keptCanaries[canaries[c].target.cluster] = canaries[c]
            } else {
                for r in canaries[c].slots.indices { closeSocket(.canary(c, replica: r)) }
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
            let start = now + plan.timing.interval / max(1, plan.targets.count) * n
            guard let cluster = ClusterID.value(hex: target.key.cluster) else {
                assertionFailure("a watched cluster's id is 32 hex digits: \(target.key.cluster)")
                continue
            }
            probes.append(
                Probe(
                    target: target, slot: Slot(hostPort: HostPort(parsing: target.address)),
                    session: ProbeSession(
                        cluster: cluster, client: ClientID.random(using: &generator), timing: plan.timing, start: start,
                        replica: UInt8(clamping: target.key.replica))))
        }
        canaries = []
        for target in plan.canaries {
            if var canary = keptCanaries[target.cluster] {
                canary.target = target
                canary.session.update(target.timing)
                canaries.append(canary)
                continue
            }
            guard let cluster = ClusterID.value(hex: target.cluster), !target.addresses.isEmpty else {
                assertionFailure("a watched cluster's id is 32 hex digits and it has replicas: \(target.cluster)")
                continue
            }
            canaries.append(
                Canary(
                    target: target, slots: target.addresses.map { Slot(hostPort: HostPort(parsing: $0)) },
                    session: CanarySession(
                        cluster: cluster, client: ClientID.random(using: &generator), replicaCount: target.addresses.count,
                        timing: target.timing, start: now)))
        }
        owner = [:]
        waiting = [:]
        for endpoint in endpoints {
            let slot = self[slot: endpoint]
            if let connection = slot.connection { owner[connection] = endpoint }
            if let id = slot.resolving { waiting[id] = endpoint }
        }
        deadlines = probes.map(\.session.nextDeadline)
        canaryDeadlines = canaries.map(\.session.nextDeadline)
        isDirty = Array(repeating: false, count: probes.count)
        dirty = []
        for (i, commands) in pending { perform(commands, on: i) }
        let live = Set(kept.keys)
        prober.results.withLock { results in
            for key in results.keys where !live.contains(key) { results[key] = nil }
        }
        let liveCanaries = Set(canaries.map(\.target.cluster))
        prober.canaryResults.withLock { results in
            for cluster in results.keys where !liveCanaries.contains(cluster) { results[cluster] = nil }
        }
        canariesDirty = true
    }

    /// What the network says of an open connection's path (the kernel's `TCP_INFO`), nil when there is none or it cannot say.
    func path(of slot: Slot) -> PathReport? {
        guard let connection = slot.connection, !slot.connecting else { return nil }
        return network.path(connection)
    }

    /// The release the cluster's replicas answer pings with (the canary claims it), if a probe has learnt it.
    func release(of cluster: String) -> Release? {
        probes.lazy.filter { $0.target.key.cluster == cluster }.compactMap { $0.session.result?.release.flatMap(Release.init) }.first
    }

    /// Every slot, probes' and canaries'.
    var endpoints: [Endpoint] {
        probes.indices.map { .probe($0) }
            + canaries.indices.flatMap { c in canaries[c].slots.indices.map { Endpoint.canary(c, replica: $0) } }
    }

    func perform(_ commands: [ProbeSession.Command], on i: Int) {
        for command in commands {
            switch command {
            case .connect:
                probes[i].session.releaseHint = prober.releaseHint(probes[i].target.key)
                connect(.probe(i))
            case .send(let bytes):
                // Only ping_client leaves a probe.
                assert(bytes.count == PingClient.headerSize && bytes[114] == PingClient.command, "a probe sends ping_client only")
                send(bytes, on: .probe(i))
            case .close: closeSocket(.probe(i))
            }
        }
        markDirty(i)
    }

    func perform(_ commands: [CanarySession.Command], canary c: Int) {
        for command in commands {
            switch command {
            case .connect(let r): connect(.canary(c, replica: r))
            case .send(let r, let bytes):
                // Only ping_client, register and lookup_accounts leave a canary.
                assert(
                    bytes[114] == PingClient.command
                        || (bytes[114] == CanaryRequest.command
                            && [CanaryRequest.registerOperation, CanaryRequest.lookupAccountsOperation].contains(bytes[196])),
                    "a canary sends ping_client, register and lookup_accounts only")
                send(bytes, on: .canary(c, replica: r))
            case .close(let r): closeSocket(.canary(c, replica: r))
            }
        }
        markCanaryDirty(c)
    }

    // MARK: Events, to whoever drives the slot

    func connected(_ endpoint: Endpoint) {
        let now = prober.clock.monotonic()
        switch endpoint {
        case .probe(let i): perform(probes[i].session.connected(now: now), on: i)
        case .canary(let c, let r): perform(canaries[c].session.connected(r, now: now), canary: c)
        }
    }

    func connectFailed(_ endpoint: Endpoint, _ reason: String, refused: Bool = false) {
        let now = prober.clock.monotonic()
        switch endpoint {
        case .probe(let i):
            probes[i].session.connectFailed(reason, refused: refused, now: now)
            markDirty(i)
        case .canary(let c, let r):
            canaries[c].session.connectFailed(r, now: now)
            markCanaryDirty(c)
        }
    }

    func couldNotTry(_ endpoint: Endpoint) {
        prober.localErrors.add(1, ordering: .relaxed)
        let now = prober.clock.monotonic()
        switch endpoint {
        case .probe(let i):
            probes[i].session.couldNotTry(now: now)
            markDirty(i)
        case .canary(let c, let r):
            canaries[c].session.connectFailed(r, now: now)
            markCanaryDirty(c)
        }
    }

    func closed(_ endpoint: Endpoint, _ reason: String) {
        let now = prober.clock.monotonic()
        switch endpoint {
        case .probe(let i):
            probes[i].session.closed(reason, now: now)
            markDirty(i)
        case .canary(let c, let r):
            canaries[c].session.closed(r, now: now)
            markCanaryDirty(c)
        }
    }

    func received(_ endpoint: Endpoint, _ bytes: ArraySlice<UInt8>) {
        let now = prober.clock.monotonic()
        switch endpoint {
        case .probe(let i): perform(probes[i].session.received(bytes, now: now), on: i)
        case .canary(let c, let r): perform(canaries[c].session.received(r, bytes, now: now), canary: c)
        }
    }

    // MARK: Sockets

    func connect(_ endpoint: Endpoint) {
        let now = prober.clock.monotonic()
        guard let hostPort = self[slot: endpoint].hostPort else { return connectFailed(endpoint, "not a host:port address") }
        if let address = try? SocketAddress.resolve(hostPort, socketType: BW_SOCK_STREAM, passive: false, numericOnly: true) {
            connect(endpoint, to: address)
            return
        }
        nextRequest &+= 1
        self[slot: endpoint].resolving = nextRequest
        waiting[nextRequest] = endpoint
        network.resolve(NameRequest(id: nextRequest, address: hostPort, deadline: now + resolveTimeout))
    }

    func connect(_ endpoint: Endpoint, to address: SocketAddress) {
        switch network.connect(to: address) {
        case .connected(let connection):
            attach(connection, to: endpoint, connecting: false)
            connected(endpoint)
        case .inProgress(let connection):
            attach(connection, to: endpoint, connecting: true)
        case .failed(let code):
            failed(endpoint, code: code)
        }
    }

    func attach(_ connection: NetworkConnection, to endpoint: Endpoint, connecting: Bool) {
        assert(self[slot: endpoint].connection == nil, "a slot holds one connection")
        self[slot: endpoint].connection = connection
        self[slot: endpoint].connecting = connecting
        owner[connection] = endpoint
        register(endpoint)
    }

    /// Tells the network what the slot's connection waits for: the connect, bytes to write, replies.
    func register(_ endpoint: Endpoint) {
        let slot = self[slot: endpoint]
        guard let connection = slot.connection else { return }
        network.interest(connection, slot.connecting ? .writable : slot.outbox.isEmpty ? .readable : [.readable, .writable])
    }

    func failed(_ endpoint: Endpoint, code: Int32) {
        if TCPConnect.localResourceErrors.contains(code) {
            couldNotTry(endpoint)
        } else {
            connectFailed(endpoint, String(cString: strerror(code)), refused: code == ECONNREFUSED || code == ECONNRESET)
        }
    }

    func send(_ bytes: [UInt8], on endpoint: Endpoint) {
        let slot = self[slot: endpoint]
        guard slot.connection != nil, !slot.connecting, slot.outbox.count + bytes.count <= Self.maxOutbox else { return }
        self[slot: endpoint].outbox += bytes
        flush(endpoint)
    }

    func flush(_ endpoint: Endpoint) {
        var slot = self[slot: endpoint]
        guard let connection = slot.connection else { return }
        defer {
            if self[slot: endpoint].connection == connection {
                self[slot: endpoint].outbox = slot.outbox
                register(endpoint)
            }
        }
        while !slot.outbox.isEmpty {
            switch network.send(connection, slot.outbox) {
            case .wrote(let count):
                assert(count <= slot.outbox.count, "a network writes at most what it is given")
                slot.outbox.removeFirst(count)
            case .wouldBlock:
                return
            case .failed(let reason):
                closeSocket(endpoint)
                closed(endpoint, reason)
                return
            }
        }
    }

    func handle(_ endpoint: Endpoint, events: NetworkEvents) {
        let slot = self[slot: endpoint]
        guard let connection = slot.connection else { return }
        if slot.connecting {
            let error = network.connectError(connection)
            if error != 0 {
                closeSocket(endpoint)
                return failed(endpoint, code: error)
            }
            guard events.contains(.writable) else { return }
            self[slot: endpoint].connecting = false
            register(endpoint)
            connected(endpoint)
            return
        }
        if events.contains(.writable) { flush(endpoint) }
        guard let current = self[slot: endpoint].connection, !events.isDisjoint(with: [.readable, .broken]) else { return }
        switch network.receive(current, into: &readBuffer) {
        case .bytes(let count):
            assert(count <= readBuffer.count, "a network reads at most the buffer")
            received(endpoint, readBuffer[0..<count])
        case .wouldBlock:
            break
        case .closed(let reason):
            closeSocket(endpoint)
            closed(endpoint, reason)
        }
    }

    func deliverResolved() {
        for (id, answer) in network.resolvedNames() {
            guard let endpoint = waiting.removeValue(forKey: id), exists(endpoint), self[slot: endpoint].resolving == id else { continue }
            self[slot: endpoint].resolving = nil
            switch answer {
            case .success(let address): connect(endpoint, to: address)
            case .failure(.noLocalResources): couldNotTry(endpoint)
            case .failure(let failure): connectFailed(endpoint, failure.description)
            }
        }
    }

    func exists(_ endpoint: Endpoint) -> Bool {
        switch endpoint {
        case .probe(let i): probes.indices.contains(i)
        case .canary(let c, let r): canaries.indices.contains(c) && canaries[c].slots.indices.contains(r)
        }
    }

    func closeSocket(_ endpoint: Endpoint) {
        var slot = self[slot: endpoint]
        if let connection = slot.connection {
            owner[connection] = nil
            network.close(connection)
        }
        slot.connection = nil
        slot.connecting = false
        slot.outbox.removeAll()
        if let id = slot.resolving { waiting[id] = nil }
        slot.resolving = nil
        self[slot: endpoint] = slot
    }

    func closeAll() {
        confinement.check("the probe loop")
        for endpoint in endpoints { closeSocket(endpoint) }
    }

    /// Copies the results that changed out, moved to the wall clock (here, and nowhere else); wakes the alert loop when a
    /// verdict may change.
    func publish() {
        var notable = false
        let offset = WallClockOffset(wall: prober.clock.wall(), monotonic: prober.clock.monotonic())
        if canariesDirty {
            canariesDirty = false
            var changed: [(String, CanaryResult)] = []
            for c in canaries.indices {
                let refusals = canaries[c].session.result.failures["protocol"] ?? 0
                if refusals > canaries[c].refusalsLogged, let refusal = canaries[c].session.lastRefusal {
                    canaries[c].refusalsLogged = refusals
                    prober.logger.warning(
                        "canary closed a connection",
                        metadata: ["cluster": "\(canaries[c].target.cluster)", "why": "\(refusal)", "closed_so_far": "\(refusals)"])
                }
                let result = canaries[c].session.result
                guard result != canaries[c].published else { continue }
                let old = canaries[c].published
                canaries[c].published = result
                if old?.state != result.state {
                    notable = true
                    if result.state == .evicted {
                        prober.logger.error(
                            "canary evicted", metadata: ["cluster": "\(canaries[c].target.cluster)", "error": "\(result.error ?? "")"])
                    }
                }
                changed.append((canaries[c].target.cluster, result.mapInstants(offset.wall)))
            }
            if !changed.isEmpty {
                prober.canaryResults.withLock { results in
                    for (cluster, result) in changed { results[cluster] = result }
                }
            }
        }
        if !dirty.isEmpty {
            var changed: [(ReplicaKey, ProbeResult)] = []
            for i in dirty {
                isDirty[i] = false
                guard let result = probes[i].session.result, result != probes[i].published else { continue }
                let old = probes[i].published
                probes[i].published = result
                changed.append((probes[i].target.key, result.mapInstants(offset.wall)))
                if old?.outcome != result.outcome || old?.view != result.view || old?.release != result.release { notable = true }
                if let old, old.outcome != result.outcome {
                    // Each verdict change, once: what an operator reads back after a page, and how a false `hung` is counted.
                    prober.logger.info(
                        "replica probe verdict changed",
                        metadata: [
                            "cluster": "\(probes[i].target.key.cluster)", "replica": "\(probes[i].target.key.replica)",
                            "from": "\(old.outcome)", "to": "\(result.outcome)", "why": "\(result.error ?? "")",
                        ])
                }
            }
            dirty.removeAll(keepingCapacity: true)
            if !changed.isEmpty {
                prober.results.withLock { results in
                    for (key, result) in changed { results[key] = result }
                }
            }
        }
        if notable { prober.onChange() }
    }
}
