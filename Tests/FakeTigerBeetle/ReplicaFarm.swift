import Foundation
import Glibc
import Synchronization
import VSR

/// TigerBeetle replicas on 127.0.0.1 as far as beetlewatch's probe can tell, built from the recorded
/// behaviours (`Tests/Fixtures/tigerbeetle-vsr-ping.txt`, docs/architecture.md), all served by one thread: each
/// answers a `ping_client` with `pong_client` (its index, view and release, the timestamp echoed); a ping
/// claiming a release outside its range is evicted by the primary and ignored by a backup; a ping for
/// another cluster, or with a bad checksum, closes the connection. `stop` is `kill -STOP` (the kernel
/// still completes connects; nothing is read until `resume`), `kill` is `kill -9` (the port closes,
/// open connections are reset).
public final class ReplicaFarm: @unchecked Sendable {
    public struct Replica: Sendable {
        public var cluster: UInt128
        public var index: UInt8
        public var primary: Bool

        public init(cluster: UInt128, index: UInt8, primary: Bool) {
            self.cluster = cluster
            self.index = index
            self.primary = primary
        }
    }

    struct State {
        var view: UInt32 = 1
        var release = Release(major: 0, minor: 17, patch: 9)
        var clientReleases = Release(major: 0, minor: 16, patch: 4)...Release(major: 0, minor: 17, patch: 9)
        var stopped = false
        var killed = false
        var pings: [ReplicaReplies.Ping] = []
        var connections = 0
    }

    public let replicas: [Replica]
    public let ports: [UInt16]
    private let listeners: [Int32]
    private let states: Mutex<[State]>
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    /// Keep every ping (tests read them); off for a farm of thousands.
    private let recordPings: Bool

    public init(_ replicas: [Replica], recordPings: Bool = true) {
        self.replicas = replicas
        self.recordPings = recordPings
        states = Mutex(Array(repeating: State(), count: replicas.count))
        var listeners: [Int32] = []
        var ports: [UInt16] = []
        for _ in replicas {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            listen(fd, 64)
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            listeners.append(fd)
            ports.append(UInt16(bigEndian: bound.sin_port))
        }
        self.listeners = listeners
        self.ports = ports
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "fake-replicas"
        thread.start()
    }

    public func address(_ i: Int) -> String { "127.0.0.1:\(ports[i])" }

    public func pings(_ i: Int) -> [ReplicaReplies.Ping] { states.withLock { $0[i].pings } }
    public func connections(_ i: Int) -> Int { states.withLock { $0[i].connections } }
    public func set(view: UInt32, _ i: Int) { states.withLock { $0[i].view = view } }
    public func set(release: Release, accepting clientReleases: ClosedRange<Release>, _ i: Int) {
        states.withLock {
            $0[i].release = release
            $0[i].clientReleases = clientReleases
        }
    }
    public func stop(_ i: Int) { states.withLock { $0[i].stopped = true } }
    public func resume(_ i: Int) { states.withLock { $0[i].stopped = false } }
    public func kill(_ i: Int) { states.withLock { $0[i].killed = true } }

    /// Kills every replica and ends the serving thread.
    public func close() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        finished.wait()
    }

    private func serve() {
        var connections: [(fd: Int32, replica: Int, buffer: [UInt8])] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var open = Array(repeating: true, count: replicas.count)
        while running.load(ordering: .relaxed) {
            let snapshot = states.withLock { $0.map { (stopped: $0.stopped, killed: $0.killed) } }
            // kill -9: the port closes, its connections are reset.
            for i in replicas.indices where snapshot[i].killed && open[i] {
                open[i] = false
                Glibc.close(listeners[i])
                for connection in connections where connection.replica == i { reset(connection.fd) }
                connections.removeAll { $0.replica == i }
            }
            var fds: [pollfd] = []
            var owners: [Int] = []  // >= 0: a connection index; < 0: -(listener index) - 1
            for i in replicas.indices where open[i] && !snapshot[i].stopped {
                fds.append(pollfd(fd: listeners[i], events: Int16(POLLIN), revents: 0))
                owners.append(-i - 1)
            }
            for (n, connection) in connections.enumerated() where !snapshot[connection.replica].stopped {
                fds.append(pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0))
                owners.append(n)
            }
            guard poll(&fds, nfds_t(fds.count), 20) > 0 else { continue }
            var closed: Set<Int32> = []
            for (slot, entry) in fds.enumerated() where entry.revents != 0 {
                let owner = owners[slot]
                if owner < 0 {
                    let i = -owner - 1
                    let client = accept(listeners[i], nil, nil)
                    if client >= 0 {
                        connections.append((client, i, []))
                        states.withLock { $0[i].connections += 1 }
                    }
                    continue
                }
                let count = chunk.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 {
                    closed.insert(entry.fd)
                    continue
                }
                connections[owner].buffer += chunk[0..<count]
                while connections[owner].buffer.count >= 256 {
                    let header = Array(connections[owner].buffer.prefix(256))
                    connections[owner].buffer.removeFirst(256)
                    guard let reply = answer(header, replica: connections[owner].replica) else { continue }
                    if reply.isEmpty {
                        closed.insert(entry.fd)
                        break
                    }
                    _ = reply.withUnsafeBytes { send(entry.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            }
            for fd in closed { Glibc.close(fd) }
            connections.removeAll { closed.contains($0.fd) }
        }
        for connection in connections { reset(connection.fd) }
        for i in replicas.indices where open[i] { Glibc.close(listeners[i]) }
    }

    private func reset(_ fd: Int32) {
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
    }

    /// The reply to one header: nil for none, empty to close the connection.
    private func answer(_ header: [UInt8], replica i: Int) -> [UInt8]? {
        let ping = ReplicaReplies.readPing(header)
        let replica = replicas[i]
        return states.withLock { states -> [UInt8]? in
            if recordPings { states[i].pings.append(ping) }
            guard ping.checksumValid, ping.cluster == replica.cluster else { return [] }
            // A real replica exits on an unknown command: the fake refuses to pretend otherwise.
            precondition(ping.command == PingClient.command, "a replica would crash on command \(ping.command)")
            let state = states[i]
            guard state.clientReleases.contains(ping.release) else {
                guard replica.primary else { return nil }
                return ReplicaReplies.eviction(
                    cluster: replica.cluster, replica: replica.index, view: state.view, release: state.release,
                    client: ping.client, reason: ping.release < state.clientReleases.lowerBound ? 2 : 3)
            }
            return ReplicaReplies.pong(
                cluster: replica.cluster, replica: replica.index, view: state.view, release: state.release,
                timestamp: ping.timestamp)
        }
    }
}

/// One fake replica with a serving thread of its own: a farm of one.
public final class FakeReplica: Sendable {
    private let farm: ReplicaFarm

    public init(cluster: UInt128 = 0, replica: UInt8 = 0, primary: Bool? = nil) {
        farm = ReplicaFarm([ReplicaFarm.Replica(cluster: cluster, index: replica, primary: primary ?? (replica == 0))])
    }

    public var port: UInt16 { farm.ports[0] }
    public var address: String { farm.address(0) }
    /// Every ping received, in order.
    public var pings: [ReplicaReplies.Ping] { farm.pings(0) }
    /// Connections accepted so far.
    public var connections: Int { farm.connections(0) }
    public func set(view: UInt32) { farm.set(view: view, 0) }
    public func set(release: Release, accepting clientReleases: ClosedRange<Release>) {
        farm.set(release: release, accepting: clientReleases, 0)
    }
    /// `kill -STOP`.
    public func stop() { farm.stop(0) }
    /// `kill -CONT`: queued connections are accepted, queued pings answered at once.
    public func resume() { farm.resume(0) }
    /// `kill -9`: the port is closed, open connections reset.
    public func close() { farm.close() }
}
