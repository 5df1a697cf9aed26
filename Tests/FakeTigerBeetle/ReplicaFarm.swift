import Foundation
import Glibc
import Synchronization
import VSR

/// TigerBeetle replicas (on 127.0.0.1, or in a network lab's namespaces) as far as beetlewatch's probe and canary can tell, built from the recorded
/// behaviours (`Tests/Fixtures/tigerbeetle-vsr-*.txt`, docs/tigerbeetle-protocol.md), all served by one thread: each
/// answers a `ping_client` with `pong_client` (its index, view and release, the timestamp echoed); a ping
/// claiming a release outside its range is evicted by the primary and ignored by a backup; a ping for
/// another cluster, or with a bad checksum, closes the connection. `stop` is `kill -STOP` (the kernel
/// still completes connects; nothing is read until `resume`), `kill` is `kill -9` (the port closes,
/// open connections are reset).
///
/// The canary's requests (`register`, `lookup_accounts`) commit through a small model of consensus: a request that
/// reaches a live replica commits while its cluster's primary is live and, counting it, a majority of the cluster's
/// replicas are live and not cut off from their peers (`isolate`). As 0.17.9 does, the primary replies on its own
/// connection from the client (none: the reply is lost), one backup chosen by the op sends a copy on its own, and a
/// request sent again after it committed is answered from the client table by whichever replica it reached; a lookup
/// of a session the cluster does not know (`forgetSessions`: newer clients took them) is answered with an eviction.
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
        /// Cut off from its peer replicas: it answers its clients, but takes part in no commit.
        var isolated = false
        var requests = 0
    }

    /// What a cluster has committed for its clients: sessions (client → session) and the replies given.
    struct ClusterBook {
        var commit: UInt64 = 100
        var sessions: [UInt128: UInt64] = [:]
        var replies: [UInt128: [UInt8]] = [:]
    }

    public let replicas: [Replica]
    /// Where each replica listens: its host (127.0.0.1 unless given) and port.
    public let hosts: [String]
    public let ports: [UInt16]
    private let listeners: [Int32]
    private let states: Mutex<[State]>
    private let books = Mutex<[UInt128: ClusterBook]>([:])
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    /// Keep every ping (tests read them); off for a farm of thousands.
    private let recordPings: Bool

    /// - Parameters:
    ///   - hosts: the IPv4 address each replica listens on (default: all on 127.0.0.1).
    ///   - makeSocket: makes replica `i`'s listening socket (default: here; a network lab makes it in the replica's
    ///     namespace).
    public init(
        _ replicas: [Replica], recordPings: Bool = true, hosts: [String]? = nil,
        makeSocket: (Int) -> Int32 = { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
    ) {
        let hosts = hosts ?? Array(repeating: "127.0.0.1", count: replicas.count)
        precondition(hosts.count == replicas.count, "one host per replica")
        self.replicas = replicas
        self.hosts = hosts
        self.recordPings = recordPings
        states = Mutex(Array(repeating: State(), count: replicas.count))
        var listeners: [Int32] = []
        var ports: [UInt16] = []
        for i in replicas.indices {
            let fd = makeSocket(i)
            precondition(fd >= 0, "a listening socket for replica \(i): errno \(errno)")
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(hosts[i])
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            precondition(bound == 0 && listen(fd, 64) == 0, "replica \(i) listening on \(hosts[i]): errno \(errno)")
            var name = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &name) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            listeners.append(fd)
            ports.append(UInt16(bigEndian: name.sin_port))
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

    public func address(_ i: Int) -> String { "\(hosts[i]):\(ports[i])" }

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
    /// Kills replica `i`, and ends the serving thread once every replica is killed.
    public func kill(_ i: Int, closingWhenAllDead: Bool) {
        let allDead = states.withLock { states in
            states[i].killed = true
            return states.allSatisfy(\.killed)
        }
        if closingWhenAllDead && allDead { close() }
    }
    /// Cut replica `i` off from its peers (or join it again): it takes part in no commit.
    public func isolate(_ i: Int, _ isolated: Bool = true) { states.withLock { $0[i].isolated = isolated } }
    /// Canary requests (register or lookup_accounts) replica `i` has read.
    public func requests(_ i: Int) -> Int { states.withLock { $0[i].requests } }
    /// Every session of the cluster is gone, as when newer clients took the 64 places.
    public func forgetSessions(cluster: UInt128) { books.withLock { $0[cluster]?.sessions = [:] } }

    /// Kills every replica and ends the serving thread.
    public func close() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        finished.wait()
    }

    private func serve() {
        var connections: [Connection] = []
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
                        connections.append(Connection(fd: client, replica: i))
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
                    // Messages framed by their size (header and body).
                    let size = Int(ReplicaReplies.get(UInt32.self, at: 96, Array(connections[owner].buffer.prefix(256))))
                    guard size >= 256 && size <= 1 << 20 else {
                        closed.insert(entry.fd)
                        break
                    }
                    guard connections[owner].buffer.count >= size else { break }
                    let message = Array(connections[owner].buffer.prefix(size))
                    connections[owner].buffer.removeFirst(size)
                    if message[114] == PingClient.command || message[114] == CanaryRequest.command {
                        connections[owner].client = ReplicaReplies.get(
                            UInt128.self, at: message[114] == PingClient.command ? 128 : 160, message)
                    }
                    guard let replies = answer(message, on: owner, connections) else {
                        closed.insert(entry.fd)
                        break
                    }
                    for (fd, reply) in replies {
                        _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
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

    struct Connection {
        var fd: Int32
        var replica: Int
        var buffer: [UInt8] = []
        /// The client that spoke on it (a ping's or a request's client id).
        var client: UInt128?
    }

    /// What to send where for one message: nil to close its connection.
    private func answer(_ message: [UInt8], on owner: Int, _ connections: [Connection]) -> [(Int32, [UInt8])]? {
        let i = connections[owner].replica
        if message[114] == CanaryRequest.command { return request(message, to: i, on: owner, connections) }
        guard message.count == 256, let reply = answer(message, replica: i) else { return [] }
        return reply.isEmpty ? nil : [(connections[owner].fd, reply)]
    }

    /// A canary request, committed by the model of consensus (see the type's comment).
    private func request(_ bytes: [UInt8], to i: Int, on owner: Int, _ connections: [Connection]) -> [(Int32, [UInt8])]? {
        let request = ReplicaReplies.readRequest(bytes)
        let replica = replicas[i]
        guard request.checksumsValid, request.cluster == replica.cluster else { return nil }
        // A real replica trips an assertion on any other operation: the fake refuses to pretend otherwise.
        precondition(
            request.operation == CanaryRequest.registerOperation || request.operation == CanaryRequest.lookupAccountsOperation,
            "a replica would crash on operation \(request.operation)")
        let members = replicas.indices.filter { replicas[$0].cluster == replica.cluster }
        let (commits, primary, view) = states.withLock { states -> (Bool, Int?, UInt32) in
            states[i].requests += 1
            let live = members.filter { !states[$0].stopped && !states[$0].killed && !states[$0].isolated }
            let primary = members.first { replicas[$0].primary }
            let commits = primary.map { live.contains($0) } == true && live.count >= members.count / 2 + 1 && live.contains(i)
            return (commits, primary, states[primary ?? i].view)
        }
        guard commits, let primary else { return [] }
        let cluster = replica.cluster
        // A request committed before (sent again): the replica it reached answers from its client table, on the connection
        // it came in on.
        if let given = books.withLock({ $0[cluster]?.replies[request.checksum] }) { return [(connections[owner].fd, given)] }
        let reply = books.withLock { books -> [UInt8] in
            var book = books[cluster] ?? ClusterBook()
            defer { books[cluster] = book }
            if request.operation != CanaryRequest.registerOperation && book.sessions[request.client] != request.session {
                return ReplicaReplies.eviction(
                    cluster: cluster, replica: replicas[primary].index, view: view, release: request.release, client: request.client,
                    reason: 1)
            }
            book.commit += 1
            if request.operation == CanaryRequest.registerOperation { book.sessions[request.client] = book.commit }
            let reply = ReplicaReplies.reply(
                to: bytes, cluster: cluster, primary: replicas[primary].index, view: view, commit: book.commit,
                context: UInt128(book.commit) << 64 | 0xc0ffee)
            book.replies[request.checksum] = reply
            return reply
        }
        // As 0.17.9 does: the primary replies on its own connection from the client (none: lost), and one backup, chosen
        // by the op, sends its copy on its own.
        var deliveries: [(Int32, [UInt8])] = []
        if let onPrimary = connections.first(where: { $0.replica == primary && $0.client == request.client }) {
            deliveries.append((onPrimary.fd, reply))
        }
        if members.count > 1, reply[114] == CanaryReply.replyCommand {
            let commit = Int(ReplicaReplies.get(UInt64.self, at: 216, reply) % UInt64(members.count - 1))
            let position = (members.firstIndex(of: primary)! + 1 + commit) % members.count
            let backup = members[position]
            let live = states.withLock { !$0[backup].stopped && !$0[backup].killed && !$0[backup].isolated }
            if live, let onBackup = connections.first(where: { $0.replica == backup && $0.client == request.client }) {
                deliveries.append((onBackup.fd, reply))
            }
        }
        if reply[114] == ReplicaReply.evictionCommand && deliveries.isEmpty { deliveries.append((connections[owner].fd, reply)) }
        return deliveries
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

/// One fake replica: alone (a farm of one, with a serving thread of its own), or one of a cluster's replicas served
/// together (`cluster(_:)`), whose canary requests commit only while a majority of them is live.
public final class FakeReplica: Sendable {
    private let farm: ReplicaFarm
    private let index: Int

    public init(cluster: UInt128 = 0, replica: UInt8 = 0, primary: Bool? = nil) {
        farm = ReplicaFarm([ReplicaFarm.Replica(cluster: cluster, index: replica, primary: primary ?? (replica == 0))])
        index = 0
    }

    private init(farm: ReplicaFarm, index: Int) {
        self.farm = farm
        self.index = index
    }

    /// `count` replicas of `cluster`, replica 0 the primary, served by one thread.
    /// `hosts` and `makeSocket` as for `ReplicaFarm`.
    public static func cluster(
        _ count: Int, cluster: UInt128 = 0, hosts: [String]? = nil,
        makeSocket: (Int) -> Int32 = { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
    ) -> [FakeReplica] {
        let farm = ReplicaFarm(
            (0..<count).map { ReplicaFarm.Replica(cluster: cluster, index: UInt8($0), primary: $0 == 0) }, hosts: hosts,
            makeSocket: makeSocket)
        return (0..<count).map { FakeReplica(farm: farm, index: $0) }
    }

    public var port: UInt16 { farm.ports[index] }
    public var address: String { farm.address(index) }
    /// Every ping received, in order.
    public var pings: [ReplicaReplies.Ping] { farm.pings(index) }
    /// Connections accepted so far.
    public var connections: Int { farm.connections(index) }
    /// Canary requests read so far.
    public var requests: Int { farm.requests(index) }
    public func set(view: UInt32) { farm.set(view: view, index) }
    public func set(release: Release, accepting clientReleases: ClosedRange<Release>) {
        farm.set(release: release, accepting: clientReleases, index)
    }
    /// `kill -STOP`.
    public func stop() { farm.stop(index) }
    /// `kill -CONT`: queued connections are accepted, queued pings answered at once.
    public func resume() { farm.resume(index) }
    /// Cut off from its peers (it still answers beetlewatch): it takes part in no commit.
    public func isolate(_ isolated: Bool = true) { farm.isolate(index, isolated) }
    /// Every session of the cluster is gone (newer clients took them).
    public func forgetSessions() { farm.forgetSessions(cluster: farm.replicas[index].cluster) }
    /// `kill -9`: the port is closed, open connections reset; the serving thread ends with the cluster's last replica.
    public func close() { farm.kill(index, closingWhenAllDead: true) }
}
