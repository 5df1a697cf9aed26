import CMicroHTTPD
import CNetShim
import Config
import Dispatch
import Exposition
import Glibc
import Synchronization
import TigerBeetle

/// libmicrohttpd serving an `HTTPHandler`.
final class HTTPServer: @unchecked Sendable {
    /// Sized so that slow or idle connections cannot shut others out: a client address holds at most
    /// 32 connections, one silent for 10 s is closed, and 1,024 in all leave room for many addresses.
    /// Four polling threads: a slow request (a bcrypt check, a large page) holds only its own thread's connections.
    struct Limits {
        var threads: UInt32 = 4
        var connections: UInt32 = 1024
        var connectionsPerIP: UInt32 = 32
        var timeoutSeconds: UInt32 = 10
    }

    /// Holds the handler for the C callback's context pointer.
    private final class HandlerBox {
        let handler: any HTTPHandler
        /// Requests answered, by status code.
        let answered = Mutex<[Int: UInt64]>([:])
        init(_ handler: any HTTPHandler) { self.handler = handler }
    }

    /// A running daemon and the TLS texts it was started with (libmicrohttpd keeps the pointers).
    private struct Running {
        var daemon: OpaquePointer
        var tls: UnsafeMutablePointer<bw_http_tls>?
        var material: TLSMaterial?
    }

    private let running: Mutex<Running?>
    /// Daemons replaced by `replaceTLS`, stopping in the background.
    private let retiring = DispatchGroup()
    private let server: UnsafeMutablePointer<bw_http_server>
    private let box: Unmanaged<HandlerBox>
    let limits: Limits
    private let flags: UInt32
    let port: UInt16
    private let clock: any AgentClock

    /// - Parameter clock: what a replaced daemon's grace is timed on.
    init(address: HostPort, handler: any HTTPHandler, tls: TLSMaterial? = nil, limits: Limits = Limits(), clock: any AgentClock) throws {
        let resolved = try SocketAddress.resolve(address, socketType: BW_SOCK_STREAM, passive: true)
        let box = Unmanaged.passRetained(HandlerBox(handler))
        let server = UnsafeMutablePointer<bw_http_server>.allocate(capacity: 1)
        server.initialize(
            to: bw_http_server(
                handler: httpServerCallback, context: box.toOpaque(), connections_opened: 0,
                connections_closed: 0, framing_rejected: 0))
        self.box = box
        self.server = server
        self.limits = limits
        self.clock = clock
        let flags = resolved.family == AF_INET6 ? UInt32(MHD_USE_IPv6.rawValue) : 0
        self.flags = flags
        let started: Running
        do {
            started = try resolved.withSockaddr { address, _ in
                try Self.start(server: server, address: address, listenFD: -1, flags: flags, limits: limits, tls: tls)
            }
        } catch {
            server.deallocate()
            box.release()
            throw SystemError("starting the HTTP server on \(address)", code: (error as? SystemError)?.code ?? EADDRINUSE)
        }
        port = SocketAddress.boundPort(of: bw_http_listen_fd(started.daemon))
        running = Mutex(started)
    }

    private static func start(
        server: UnsafeMutablePointer<bw_http_server>, address: UnsafePointer<sockaddr>?, listenFD: Int32,
        flags: UInt32, limits: Limits, tls material: TLSMaterial?
    ) throws -> Running {
        var tls: UnsafeMutablePointer<bw_http_tls>?
        if let material {
            tls = UnsafeMutablePointer<bw_http_tls>.allocate(capacity: 1)
            tls!.initialize(
                to: bw_http_tls(
                    key_pem: strdup(material.keyPEM), cert_pem: strdup(material.certificatePEM),
                    priorities: strdup(material.priorities)))
        }
        errno = 0
        guard
            let daemon = bw_http_start(
                server, address, listenFD, flags, limits.threads, limits.connections,
                limits.connectionsPerIP, limits.timeoutSeconds, tls)
        else {
            let code = errno
            release(tls)
            throw SystemError("starting the HTTP server", code: code == 0 ? EINVAL : code)
        }
        return Running(daemon: daemon, tls: tls, material: material)
    }

    private static func release(_ tls: UnsafeMutablePointer<bw_http_tls>?) {
        guard let tls else { return }
        free(UnsafeMutablePointer(mutating: tls.pointee.key_pem))
        free(UnsafeMutablePointer(mutating: tls.pointee.cert_pem))
        free(UnsafeMutablePointer(mutating: tls.pointee.priorities))
        tls.deallocate()
    }

    /// What the server has counted: requests by code, connections, ambiguous requests refused.
    var stats: ServerStats {
        var stats = ServerStats()
        stats.requests = box.takeUnretainedValue().answered.withLock { $0 }
        stats.connectionsOpened = bw_http_load(&server.pointee.connections_opened)
        stats.connectionsClosed = bw_http_load(&server.pointee.connections_closed)
        stats.ambiguousRequests = bw_http_load(&server.pointee.framing_rejected)
        return stats
    }

    /// Whether the server speaks HTTPS.
    var servesTLS: Bool { running.withLock { $0?.material != nil } }

    /// Switches between HTTP and HTTPS, or to new TLS material, without closing the port:
    /// the old daemon stops accepting, a new one takes over its socket, and requests under way finish.
    /// May be called from a request handler (`POST /-/reload`): the old daemon, whose thread that is,
    /// is stopped in the background once its requests are done.
    func replaceTLS(_ material: TLSMaterial?) throws {
        try running.withLock { running in
            guard let old = running, old.material != material else { return }
            let fd = bw_http_quiesce(old.daemon)
            guard fd >= 0 else { throw SystemError("handing over the HTTP socket", code: EINVAL) }
            defer { retire(old) }
            do {
                running = try Self.start(server: server, address: nil, listenFD: fd, flags: flags, limits: limits, tls: material)
            } catch {
                // Keep serving as before on the same socket; if even that fails, the error says nothing serves.
                do {
                    running = try Self.start(server: server, address: nil, listenFD: fd, flags: flags, limits: limits, tls: old.material)
                } catch let restoring {
                    running = nil
                    throw ReasonError(
                        "\(error); serving as before failed too (\(restoring)): beetlewatch serves no HTTP until it is restarted")
                }
                throw error
            }
        }
    }

    /// A replaced daemon keeps its connections this long to finish what they are sending (the
    /// response to the reload itself, a scrape); idle keep-alive connections are then closed, and
    /// their clients reconnect to the new daemon. (libmicrohttpd has no event for "no connections left": the count is
    /// read every 10 ms, only while a replaced daemon retires.)
    static let retirementGrace: Duration = .seconds(5)

    private func retire(_ old: Running) {
        nonisolated(unsafe) let stopping = (old.daemon, old.tls)
        DispatchQueue.global().async(group: retiring) { [clock] in
            let deadline = clock.monotonic() + Self.retirementGrace
            while bw_http_connections(stopping.0) > 0 && clock.monotonic() < deadline { usleep(10_000) }
            MHD_stop_daemon(stopping.0)
            Self.release(stopping.1)
        }
    }

    /// Stops accepting and waits for requests under way.
    func stop() {
        running.withLock { running in
            guard let current = running else { return }
            MHD_stop_daemon(current.daemon)
            Self.release(current.tls)
            running = nil
        }
        retiring.wait()
        server.deallocate()
        box.release()
    }

    fileprivate static func respond(
        context: UnsafeMutableRawPointer, connection: OpaquePointer,
        method: String, url: String, out: UnsafeMutablePointer<bw_http_response>
    ) {
        let box = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue()
        let handler = box.handler
        var address = [CChar](repeating: 0, count: 64)
        bw_http_client_address(connection, &address, address.count)
        let request = HTTPRequest(
            method: method, path: url, client: address.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
            header: { name in bw_http_header(connection, name).map { String(cString: $0) } },
            query: { name in bw_http_query(connection, name).map { String(cString: $0) } }
        )
        let response = handler.handle(request)
        box.answered.withLock { $0[response.status, default: 0] += 1 }
        out.pointee.status = UInt32(response.status)
        out.pointee.content_type = UnsafeRawPointer(response.contentType.utf8Start).assumingMemoryBound(to: CChar.self)
        if let allow = response.allow {
            out.pointee.allow = UnsafeRawPointer(allow.utf8Start).assumingMemoryBound(to: CChar.self)
        }
        if let challenge = response.wwwAuthenticate {
            out.pointee.www_authenticate = UnsafeRawPointer(challenge.utf8Start).assumingMemoryBound(to: CChar.self)
        }
        if let page = response.page {
            // libmicrohttpd frees it once sent: a page of tens of megabytes is not copied.
            let (bytes, count) = page.take()
            out.pointee.body = bytes.assumingMemoryBound(to: CChar.self)
            out.pointee.body_length = count
            return
        }
        let count = response.body.count
        let body = malloc(max(count, 1))!
        response.body.withUnsafeBytes { body.copyMemory(from: $0.baseAddress!, byteCount: count) }
        out.pointee.body = body.assumingMemoryBound(to: CChar.self)
        out.pointee.body_length = count
    }
}

/// The C callback libmicrohttpd calls (through the shim) on its own threads.
private func httpServerCallback(
    context: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    method: UnsafePointer<CChar>?, url: UnsafePointer<CChar>?,
    out: UnsafeMutablePointer<bw_http_response>?
) {
    guard let context, let connection, let method, let url, let out else { return }
    HTTPServer.respond(
        context: context, connection: connection, method: String(cString: method),
        url: String(cString: url), out: out)
}
