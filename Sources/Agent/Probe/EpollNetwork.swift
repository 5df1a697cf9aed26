import CNetShim
import Glibc
import Probe
import TigerBeetle

/// The agent's `ProbeNetwork`: non-blocking sockets under one epoll set, a pipe that wakes its wait, and `getaddrinfo` on
/// threads of their own (`NameResolver`, started at the first host name).
final class EpollNetwork: ProbeNetwork, @unchecked Sendable {
    private let epoll: Int32
    private let resolver: NameResolver
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// The epoll events each socket is registered for.
    private var registered: [Int32: UInt32] = [:]
    private var readyFDs = [Int32](repeating: 0, count: 256)
    private var readyEvents = [UInt32](repeating: 0, count: 256)

    /// Fails when the kernel gives no epoll set or pipe (out of descriptors): the prober cannot run without them.
    /// - Parameter clock: the prober's (a name's deadline is on it).
    init(clock: any AgentClock) throws {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw SystemError("creating the prober's epoll set") }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            let failure = SystemError("creating the prober's wake-up pipe")
            Glibc.close(epoll)
            throw failure
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        guard bw_epoll_set(epoll, BW_EPOLL_CTL_ADD, fds[0], BW_EPOLLIN) == 0 else {
            let failure = SystemError("watching the prober's wake-up pipe")
            [epoll, fds[0], fds[1]].forEach { _ = Glibc.close($0) }
            throw failure
        }
        (self.epoll, wakeRead, wakeWrite) = (epoll, fds[0], fds[1])
        let wakeWrite = fds[1]
        resolver = NameResolver(wake: { Self.signal(wakeWrite) }, clock: clock)
    }

    deinit {
        for fd in registered.keys { Glibc.close(fd) }
        [epoll, wakeRead, wakeWrite].forEach { _ = Glibc.close($0) }
    }

    func connect(to address: SocketAddress) -> ConnectStart {
        let fd = socket(address.family, BW_SOCK_STREAM | BW_SOCK_CLOEXEC | BW_SOCK_NONBLOCK, 0)
        guard fd >= 0 else { return .failed(errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 {
            registered[fd] = 0
            return .connected(NetworkConnection(fd))
        }
        let code = errno
        guard code == EINPROGRESS else {
            Glibc.close(fd)
            return .failed(errno: code)
        }
        registered[fd] = 0
        return .inProgress(NetworkConnection(fd))
    }

    func interest(_ connection: NetworkConnection, _ events: NetworkEvents) {
        let fd = connection.id
        guard let current = registered[fd] else { return assertionFailure("interest in a closed \(connection)") }
        let wanted = (events.contains(.readable) ? BW_EPOLLIN : 0) | (events.contains(.writable) ? BW_EPOLLOUT : 0)
        guard wanted != current else { return }
        _ = bw_epoll_set(epoll, current == 0 ? BW_EPOLL_CTL_ADD : BW_EPOLL_CTL_MOD, fd, wanted)
        registered[fd] = wanted
    }

    func connectError(_ connection: NetworkConnection) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(4)
        guard getsockopt(connection.id, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }

    func send(_ connection: NetworkConnection, _ bytes: [UInt8]) -> SendResult {
        let written = bytes.withUnsafeBytes { Glibc.send(connection.id, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written > 0 { return .wrote(written) }
        if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return .wouldBlock }
        return .failed(written < 0 ? String(cString: strerror(errno)) : "write failed")
    }

    func receive(_ connection: NetworkConnection, into buffer: inout [UInt8]) -> ReceiveResult {
        let count = buffer.withUnsafeMutableBytes { recv(connection.id, $0.baseAddress, $0.count, 0) }
        if count > 0 { return .bytes(count) }
        if count == 0 { return .closed("end of file") }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        return .closed(String(cString: strerror(errno)))
    }

    func close(_ connection: NetworkConnection) {
        guard registered.removeValue(forKey: connection.id) != nil else { return assertionFailure("closing a closed \(connection)") }
        Glibc.close(connection.id)  // also leaves the epoll set
    }

    func path(_ connection: NetworkConnection) -> PathReport? {
        var info = tcp_info()
        var outOfOrder: UInt32 = 0
        guard bw_tcp_info(connection.id, &info, &outOfOrder) == 0 else { return nil }
        // Sent and unacknowledged (in flight), or queued and not sent at all (a local firewall's drop keeps a segment
        // from leaving): either way the replica's host has not acknowledged it.
        let queued = bw_tcp_unacknowledged_bytes(connection.id)
        return PathReport(
            unacknowledged: info.tcpi_unacked, unacknowledgedBytes: UInt32(clamping: max(0, queued)),
            retransmissions: info.tcpi_total_retrans,
            outOfOrderReceived: outOfOrder, roundTripMicroseconds: info.tcpi_rtt,
            millisecondsSinceLastSend: info.tcpi_last_data_sent, millisecondsSinceLastAck: info.tcpi_last_ack_recv)
    }

    func wait(milliseconds: Int32, events: inout [(NetworkConnection, NetworkEvents)]) -> Bool {
        events.removeAll(keepingCapacity: true)
        let ready = bw_epoll_wait(epoll, &readyFDs, &readyEvents, Int32(readyFDs.count), milliseconds)
        var woken = false
        for n in 0..<max(0, Int(ready)) {
            let fd = readyFDs[n]
            if fd == wakeRead {
                var bytes = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &bytes, bytes.count) > 0 {}
                woken = true
                continue
            }
            let raw = readyEvents[n]
            var happened: NetworkEvents = []
            if raw & BW_EPOLLIN != 0 { happened.insert(.readable) }
            if raw & BW_EPOLLOUT != 0 { happened.insert(.writable) }
            if raw & (BW_EPOLLERR | BW_EPOLLHUP) != 0 { happened.insert(.broken) }
            events.append((NetworkConnection(fd), happened))
        }
        return woken
    }

    func wake() { Self.signal(wakeWrite) }

    /// Writes a byte to the wake-up pipe (full: a wake-up is already pending, which is as good).
    private static func signal(_ pipe: Int32) {
        var byte: UInt8 = 1
        _ = write(pipe, &byte, 1)
    }

    func resolve(_ request: NameRequest) { resolver.submit(request) }

    func resolvedNames() -> [(id: UInt64, answer: Result<SocketAddress, NameFailure>)] { resolver.takeAnswers() }

    func shutdown() { resolver.stop() }
}
