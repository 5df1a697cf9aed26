import CNetShim
import CMicroHTTPD
import Config
import Glibc

/// libmicrohttpd serving an `HTTPHandler`.
final class HTTPServer: @unchecked Sendable {
    struct Limits {
        var threads: UInt32 = 2
        var connections: UInt32 = 256
        var connectionsPerIP: UInt32 = 64
        var timeoutSeconds: UInt32 = 30
    }

    /// Holds the handler for the C callback's context pointer.
    private final class HandlerBox {
        let handler: any HTTPHandler
        init(_ handler: any HTTPHandler) { self.handler = handler }
    }

    private let daemon: OpaquePointer
    private let server: UnsafeMutablePointer<bw_http_server>
    private let box: Unmanaged<HandlerBox>
    let port: UInt16

    init(address: HostPort, handler: any HTTPHandler, limits: Limits = Limits()) throws {
        let resolved = try SocketAddress.resolve(address, socketType: BW_SOCK_STREAM, passive: true)
        let box = Unmanaged.passRetained(HandlerBox(handler))
        let server = UnsafeMutablePointer<bw_http_server>.allocate(capacity: 1)
        server.initialize(to: bw_http_server(handler: httpServerCallback, context: box.toOpaque()))
        let flags = resolved.family == AF_INET6 ? UInt32(MHD_USE_IPv6.rawValue) : 0
        let started = resolved.withSockaddr { address, _ in
            bw_http_start(server, address, flags, limits.threads, limits.connections,
                          limits.connectionsPerIP, limits.timeoutSeconds)
        }
        self.box = box
        self.server = server
        guard let started else {
            let code = errno
            server.deallocate()
            box.release()
            throw SystemError("starting the HTTP server on \(address)", code: code == 0 ? EADDRINUSE : code)
        }
        daemon = started
        port = SocketAddress.boundPort(of: bw_http_listen_fd(started))
    }

    /// Stops accepting and waits for requests under way.
    func stop() {
        MHD_stop_daemon(daemon)
        server.deallocate()
        box.release()
    }

    fileprivate static func respond(context: UnsafeMutableRawPointer, connection: OpaquePointer,
                                    method: String, url: String, out: UnsafeMutablePointer<bw_http_response>) {
        let handler = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue().handler
        let request = HTTPRequest(
            method: method, path: url,
            header: { name in bw_http_header(connection, name).map { String(cString: $0) } },
            query: { name in bw_http_query(connection, name).map { String(cString: $0) } }
        )
        let response = handler.handle(request)
        out.pointee.status = UInt32(response.status)
        out.pointee.content_type = UnsafeRawPointer(response.contentType.utf8Start).assumingMemoryBound(to: CChar.self)
        if let allow = response.allow {
            out.pointee.allow = UnsafeRawPointer(allow.utf8Start).assumingMemoryBound(to: CChar.self)
        }
        let count = response.body.count
        let body = malloc(max(count, 1))!
        response.body.withUnsafeBytes { body.copyMemory(from: $0.baseAddress!, byteCount: count) }
        out.pointee.body = body.assumingMemoryBound(to: CChar.self)
        out.pointee.body_length = count
    }
}

/// The C callback libmicrohttpd calls (through the shim) on its own threads.
private func httpServerCallback(context: UnsafeMutableRawPointer?, connection: OpaquePointer?,
                                method: UnsafePointer<CChar>?, url: UnsafePointer<CChar>?,
                                out: UnsafeMutablePointer<bw_http_response>?) {
    guard let context, let connection, let method, let url, let out else { return }
    HTTPServer.respond(context: context, connection: connection, method: String(cString: method),
                       url: String(cString: url), out: out)
}
