import Config
import Glibc
import Health

/// One TCP liveness probe: resolve (every time, so DNS changes are followed),
/// non-blocking connect, wait up to the timeout, close. No result when this process could not even try
/// (out of file descriptors: EMFILE), which must never read as the replica being unreachable.
enum TCPProbe {
    static func run(address: String, timeout: Duration, now: () -> Int64 = WallClock.now) -> ProbeResult? {
        let start = WallClock.monotonic()
        func result(_ success: Bool, _ error: String? = nil) -> ProbeResult {
            ProbeResult(success: success, durationSeconds: Double(WallClock.monotonic() - start) / 1e9, at: now(), error: error)
        }
        guard let hostPort = HostPort(parsing: address) else { return result(false, "not a host:port address") }
        switch TCPConnect.open(hostPort, deadline: start + timeout.nanoseconds) {
        case .success(let fd):
            close(fd)
            return result(true)
        case .failure(.noLocalResources):
            return nil
        case .failure(.timedOut):
            return result(false, "timed out after \(Double(timeout.nanoseconds) / 1e9)s")
        case .failure(let failure):
            return result(false, failure.description)
        }
    }
}
