import Foundation
import Glibc
import Synchronization
import VSR

/// A TigerBeetle replica on 127.0.0.1 as far as beetlewatch's probe can tell, built from the recorded
/// behaviours (`../shared/fixtures/tigerbeetle-vsr-ping.txt`, facts.md): it answers a `ping_client` with
/// `pong_client` (its index, view and release, the timestamp echoed); a ping claiming a release outside
/// its range is evicted by the primary and ignored by a backup; a ping for another cluster closes the
/// connection; `stop()` is `kill -STOP` (the kernel still completes connects, nothing is read until
/// `resume()`), `close()` is `kill -9` (connects refused, open connections reset).
public final class FakeReplica: @unchecked Sendable {
    public let port: UInt16
    public let cluster: UInt128
    public let replica: UInt8
    private let listener: Int32
    private let state: Mutex<State>
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    struct State {
        var view: UInt32 = 1
        var release = Release(major: 0, minor: 17, patch: 9)
        var clientReleases = Release(major: 0, minor: 16, patch: 4)...Release(major: 0, minor: 17, patch: 9)
        var primary = false
        var stopped = false
        var pings: [ReplicaReplies.Ping] = []
        var connections = 0
    }

    public init(cluster: UInt128 = 0, replica: UInt8 = 0, primary: Bool? = nil) {
        self.cluster = cluster
        self.replica = replica
        state = Mutex(State(primary: primary ?? (replica == 0)))
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(listener, 64)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = UInt16(bigEndian: bound.sin_port)
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "fake-replica-\(replica)"
        thread.start()
    }

    public var address: String { "127.0.0.1:\(port)" }

    /// Every ping received, in order.
    public var pings: [ReplicaReplies.Ping] { state.withLock { $0.pings } }
    /// Connections accepted so far.
    public var connections: Int { state.withLock { $0.connections } }

    public func set(view: UInt32) { state.withLock { $0.view = view } }
    public func set(release: Release, accepting clientReleases: ClosedRange<Release>) {
        state.withLock {
            $0.release = release
            $0.clientReleases = clientReleases
        }
    }
    /// `kill -STOP`.
    public func stop() { state.withLock { $0.stopped = true } }
    /// `kill -CONT`: queued connections are accepted, queued pings answered at once.
    public func resume() { state.withLock { $0.stopped = false } }

    /// `kill -9`: the port is closed, open connections reset.
    public func close() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        finished.wait()
    }

    private func serve() {
        var connections: [(fd: Int32, buffer: [UInt8])] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while running.load(ordering: .relaxed) {
            let stopped = state.withLock { $0.stopped }
            if stopped {
                usleep(5_000)
                continue
            }
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)] + connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 20) > 0 else { continue }
            if fds[0].revents != 0 {
                let client = accept(listener, nil, nil)
                if client >= 0 {
                    connections.append((client, []))
                    state.withLock { $0.connections += 1 }
                }
            }
            var closed: Set<Int32> = []
            for (slot, entry) in fds.enumerated().dropFirst() where entry.revents != 0 {
                let i = slot - 1
                let count = chunk.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 {
                    closed.insert(entry.fd)
                    continue
                }
                connections[i].buffer += chunk[0..<count]
                while connections[i].buffer.count >= 256 {
                    let header = Array(connections[i].buffer.prefix(256))
                    connections[i].buffer.removeFirst(256)
                    guard let reply = answer(header) else { continue }
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
        // kill -9: connections reset, the port closed.
        for connection in connections {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            Glibc.close(connection.fd)
        }
        Glibc.close(listener)
    }

    /// The reply to one header: nil for none, empty to close the connection.
    private func answer(_ header: [UInt8]) -> [UInt8]? {
        let ping = ReplicaReplies.readPing(header)
        return state.withLock { state -> [UInt8]? in
            state.pings.append(ping)
            guard ping.checksumValid, ping.cluster == cluster else { return [] }
            // A real replica exits on an unknown command: the fake refuses to pretend otherwise.
            precondition(ping.command == PingClient.command, "a replica would crash on command \(ping.command)")
            guard state.clientReleases.contains(ping.release) else {
                guard state.primary else { return nil }
                return ReplicaReplies.eviction(cluster: cluster, replica: replica, view: state.view, release: state.release, client: ping.client,
                                               reason: ping.release < state.clientReleases.lowerBound ? 2 : 3)
            }
            return ReplicaReplies.pong(cluster: cluster, replica: replica, view: state.view, release: state.release, timestamp: ping.timestamp)
        }
    }
}
