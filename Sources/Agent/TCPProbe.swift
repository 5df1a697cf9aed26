import CNetShim
import Config
import Glibc
import Health

/// One TCP liveness probe: resolve (every time, so DNS changes are followed),
/// non-blocking connect, wait up to the timeout, close.
enum TCPProbe {
    static func run(address: String, timeout: Duration, now: () -> Int64 = WallClock.now) -> ProbeResult {
        let start = WallClock.monotonic()
        func result(_ success: Bool, _ error: String? = nil) -> ProbeResult {
            ProbeResult(success: success, durationSeconds: Double(WallClock.monotonic() - start) / 1e9, at: now(), error: error)
        }
        guard let hostPort = HostPort(parsing: address) else { return result(false, "not a host:port address") }
        let resolved: SocketAddress
        do {
            resolved = try SocketAddress.resolve(hostPort, socketType: BW_SOCK_STREAM, passive: false)
        } catch {
            return result(false, "cannot resolve \(hostPort.host)")
        }
        let fd = socket(resolved.family, BW_SOCK_STREAM | BW_SOCK_CLOEXEC | BW_SOCK_NONBLOCK, 0)
        guard fd >= 0 else { return result(false, SystemError("socket").description) }
        defer { close(fd) }
        let started = resolved.withSockaddr { connect(fd, $0, $1) }
        if started == 0 { return result(true) }
        guard errno == EINPROGRESS else { return result(false, String(cString: strerror(errno))) }
        let remaining = timeout.nanoseconds - (WallClock.monotonic() - start)
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&pollfd, 1, Int32(clamping: max(0, remaining / 1_000_000)))
        if ready == 0 { return result(false, "timed out after \(Double(timeout.nanoseconds) / 1e9)s") }
        if ready < 0 { return result(false, SystemError("poll").description) }
        var error: Int32 = 0
        var length = socklen_t(4)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? result(true) : result(false, String(cString: strerror(error)))
    }
}
