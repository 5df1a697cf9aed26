import CGnuTLS
import Config
import Glibc
import TigerBeetle

/// An outbound TCP connection, plain or TLS (GnuTLS), whose every read and write is bounded by a
/// deadline and whose every failure is a value: what the webhook client talks through.
public final class ClientConnection {
    /// How an https:// peer's certificate is checked.
    public struct TLSOptions: Equatable, Sendable {
        /// PEM file of the CAs to trust; nil: the system's.
        public var caFile: String?
        /// Do not verify the certificate (test setups only).
        public var insecureSkipVerify = false

        public init(caFile: String? = nil, insecureSkipVerify: Bool = false) {
            self.caFile = caFile
            self.insecureSkipVerify = insecureSkipVerify
        }
    }

    private let fd: Int32
    private var tls: UnsafeMutablePointer<bw_tls_client>?
    /// What the deadlines are on (the system's: `poll` waits in real time).
    private let clock: any AgentClock

    private init(fd: Int32, tls: UnsafeMutablePointer<bw_tls_client>?, clock: any AgentClock) {
        self.fd = fd
        self.tls = tls
        self.clock = clock
    }

    deinit {
        if let tls {
            bw_tls_client_free(tls)
            tls.deallocate()
        }
        close(fd)
    }

    /// Connects, and with `tls` completes the handshake (the certificate verified for `host`).
    static func open(host: String, port: UInt16, tls options: TLSOptions?, deadline: MonotonicInstant, clock: any AgentClock) -> Result<
        ClientConnection, ClientError
    > {
        let fd: Int32
        switch TCPConnect.open(HostPort(host: host, port: port), deadline: deadline, clock: clock) {
        case .success(let connected): fd = connected
        case .failure(let failure): return .failure(ClientError(failure.description))
        }
        guard let options else { return .success(ClientConnection(fd: fd, tls: nil, clock: clock)) }
        let session = UnsafeMutablePointer<bw_tls_client>.allocate(capacity: 1)
        var probe = in6_addr()
        let isAddress = inet_pton(AF_INET, host, &probe) == 1 || inet_pton(AF_INET6, host, &probe) == 1
        let initialized = bw_tls_client_init(session, fd, host, isAddress ? 1 : 0, options.caFile, options.insecureSkipVerify ? 0 : 1)
        guard initialized == 0 else {
            session.deallocate()
            close(fd)
            return .failure(ClientError("TLS setup: \(String(cString: bw_tls_error(initialized)))"))
        }
        let connection = ClientConnection(fd: fd, tls: session, clock: clock)
        while true {
            let result = bw_tls_client_handshake(session)
            if result == 0 { return .success(connection) }
            if bw_tls_is_again(Int(result)) != 0 {
                guard connection.waitForTLS(until: deadline) else { return .failure(ClientError("TLS handshake timed out")) }
                continue
            }
            if bw_tls_is_verification_error(Int(result)) != 0, let reason = bw_tls_client_verify_reason(session) {
                defer { free(reason) }
                return .failure(ClientError("TLS: certificate refused: \(String(cString: reason))"))
            }
            return .failure(ClientError("TLS handshake: \(String(cString: bw_tls_error(result)))"))
        }
    }

    private func waitForTLS(until deadline: MonotonicInstant) -> Bool {
        guard let tls else { return false }
        return TCPConnect.wait(fd, for: Int16(bw_tls_client_wants_write(tls) == 1 ? POLLOUT : POLLIN), until: deadline, clock: clock)
    }

    /// Writes all of `bytes`, or says why not.
    func write(_ bytes: [UInt8], until deadline: MonotonicInstant) -> ClientError? {
        var sent = 0
        while sent < bytes.count {
            let n: Int = bytes[sent...].withUnsafeBytes { chunk in
                if let tls { return bw_tls_client_send(tls, chunk.baseAddress, chunk.count) }
                return send(fd, chunk.baseAddress, chunk.count, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                sent += n
                continue
            }
            if let failure = waitAfterFailure(n, for: Int16(POLLOUT), until: deadline, timeout: "send timed out") { return failure }
        }
        return nil
    }

    /// Reads what is there (waiting up to the deadline): the count, 0 when the peer closed, or why not.
    func read(into buffer: inout [UInt8], until deadline: MonotonicInstant) -> Result<Int, ClientError> {
        while true {
            let n: Int = buffer.withUnsafeMutableBytes { space in
                if let tls { return bw_tls_client_recv(tls, space.baseAddress, space.count) }
                return recv(fd, space.baseAddress, space.count, 0)
            }
            if n >= 0 { return .success(n) }
            if let failure = waitAfterFailure(n, for: Int16(POLLIN), until: deadline, timeout: "timed out waiting for a response") {
                return .failure(failure)
            }
        }
    }

    /// After a send or receive returned `code` < 0: nil once the socket is ready to try again (for
    /// `events`, or for what GnuTLS waits on), else why the connection is done.
    private func waitAfterFailure(_ code: Int, for events: Int16, until deadline: MonotonicInstant, timeout: String) -> ClientError? {
        if tls != nil {
            guard bw_tls_is_again(code) != 0 else {
                return ClientError("TLS: \(String(cString: bw_tls_error(Int32(truncatingIfNeeded: code))))")
            }
            return waitForTLS(until: deadline) ? nil : ClientError(timeout)
        }
        guard errno == EAGAIN || errno == EINTR else { return ClientError(String(cString: strerror(errno))) }
        return TCPConnect.wait(fd, for: events, until: deadline, clock: clock) ? nil : ClientError(timeout)
    }
}

/// Why a request got no response.
struct ClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
