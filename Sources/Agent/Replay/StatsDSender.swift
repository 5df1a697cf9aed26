import CNetShim
import Config
import Foundation
import Glibc

/// Sends datagrams to a StatsD address over UDP, as TigerBeetle does.
public final class StatsDSender {
    private let fd: Int32

    public init(to address: HostPort) throws {
        let resolved = try SocketAddress.resolve(address, socketType: BW_SOCK_DGRAM, passive: false)
        let fd = socket(resolved.family, BW_SOCK_DGRAM | BW_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { throw SystemError("creating a UDP socket") }
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(4))
        guard resolved.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            let error = SystemError("connecting to \(address)")
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends one datagram; retries briefly when the socket buffer is full.
    public func send(_ bytes: [UInt8]) throws {
        while true {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if sent >= 0 { return }
            let code = errno
            if code == ENOBUFS || code == EAGAIN || code == EINTR {
                usleep(100)
                continue
            }
            // Nobody listening yet (ICMP port unreachable): UDP is fire-and-forget, as for TigerBeetle.
            if code == ECONNREFUSED { return }
            throw SystemError("sending a datagram", code: code)
        }
    }

    /// Replays a capture with its recorded timing divided by `speed` (0 = as fast as possible).
    /// Returns the number of datagrams sent.
    @discardableResult
    public func replay(_ capture: CaptureFile, speed: Double) throws -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        let firstTime = capture.datagrams.first?.time ?? 0
        for datagram in capture.datagrams {
            if speed > 0 {
                let due = start + UInt64(max(0, (datagram.time - firstTime) / speed) * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(UInt32(min((due - now) / 1000, UInt64(UInt32.max)))) }
            }
            try send(datagram.bytes)
        }
        return capture.datagrams.count
    }
}
