import CNetShim
import Config
import Glibc
import TigerBeetle

/// Resolving (at every call, so DNS changes are followed) and connecting without blocking
/// past a deadline: what the TCP probe and the plain HTTP client both need.
enum TCPConnect {
    enum Failure: Error, CustomStringConvertible {
        case unresolvable(String)
        case timedOut
        case system(String)
        /// This process is out of file descriptors or memory: not the peer's fault.
        case noLocalResources(String)

        var description: String {
            switch self {
            case .unresolvable(let host): "cannot resolve \(host)"
            case .timedOut: "connect timed out"
            case .system(let reason): reason
            case .noLocalResources(let reason): "beetlewatch itself: \(reason)"
            }
        }
    }

    /// This process out of descriptors or memory: says nothing about the peer.
    static let localResourceErrors: Set<Int32> = [EMFILE, ENFILE, ENOBUFS, ENOMEM]

    /// The address of `address` (resolved now, so DNS changes are followed), or why there is none.
    static func resolve(_ address: HostPort) -> Result<SocketAddress, Failure> {
        do {
            return .success(try SocketAddress.resolve(address, socketType: BW_SOCK_STREAM, passive: false))
        } catch {
            // A name lookup needs a socket too.
            if let code = (error as? SystemError)?.code, localResourceErrors.contains(code) {
                return .failure(.noLocalResources(String(cString: strerror(code))))
            }
            return .failure(.unresolvable(address.host))
        }
    }

    /// A connected non-blocking socket (the caller closes it), or why there is none.
    static func open(_ address: HostPort, deadline: MonotonicInstant, clock: any AgentClock) -> Result<Int32, Failure> {
        let resolved: SocketAddress
        switch resolve(address) {
        case .success(let address): resolved = address
        case .failure(let failure): return .failure(failure)
        }
        let fd = socket(resolved.family, BW_SOCK_STREAM | BW_SOCK_CLOEXEC | BW_SOCK_NONBLOCK, 0)
        guard fd >= 0 else {
            let code = errno
            if localResourceErrors.contains(code) { return .failure(.noLocalResources(String(cString: strerror(code)))) }
            return .failure(.system(SystemError("socket", code: code).description))
        }
        if resolved.withSockaddr({ connect(fd, $0, $1) }) == 0 { return .success(fd) }
        let code = errno
        guard code == EINPROGRESS else {
            close(fd)
            return .failure(.system(String(cString: strerror(code))))
        }
        guard wait(fd, for: Int16(POLLOUT), until: deadline, clock: clock) else {
            close(fd)
            return .failure(.timedOut)
        }
        var error: Int32 = 0
        var length = socklen_t(4)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            close(fd)
            return .failure(.system(String(cString: strerror(error))))
        }
        return .success(fd)
    }

    /// Waits until `fd` is ready for `events`, or the deadline (on `clock`, the system's: `poll` waits in real time) passes.
    static func wait(_ fd: Int32, for events: Int16, until deadline: MonotonicInstant, clock: any AgentClock) -> Bool {
        while true {
            let remaining = (deadline - clock.monotonic()).nanoseconds
            if remaining <= 0 { return false }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: max(1, remaining / 1_000_000)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }
}
