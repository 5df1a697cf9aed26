import CNetShim
import Config
import Glibc

/// A resolved socket address.
public struct SocketAddress: Sendable {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    public var family: Int32 { Int32(storage.ss_family) }

    /// The address as numbers, `host:port` (`[host]:port` for IPv6): what a simulated network is addressed by.
    public var numeric: String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withSockaddr {
            getnameinfo($0, $1, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
        }
        guard status == 0 else { return "?" }
        func text(_ characters: [CChar]) -> String {
            String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let name = text(host)
        return family == AF_INET6 ? "[\(name)]:\(text(service))" : "\(name):\(text(service))"
    }

    /// Resolves `address` (an empty host means every IPv4 interface).
    /// `numericOnly`: an IP literal only, answered at once without a name lookup.
    static func resolve(_ address: HostPort, socketType: Int32, passive: Bool, numericOnly: Bool = false) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketType
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) | (numericOnly ? AI_NUMERICHOST : 0)
        var result: UnsafeMutablePointer<addrinfo>?
        let host = address.host.isEmpty ? "0.0.0.0" : address.host
        let status = getaddrinfo(host, String(address.port), &hints, &result)
        guard status == 0, let first = result else {
            throw SystemError("resolving \(address)", code: status == EAI_SYSTEM ? errno : EINVAL)
        }
        defer { freeaddrinfo(result) }
        var out = SocketAddress()
        withUnsafeMutableBytes(of: &out.storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        out.length = first.pointee.ai_addrlen
        return out
    }

    /// An IP literal's address (`host:port`, `[v6]:port`), nil when it is not one.
    public static func numeric(_ text: String) -> SocketAddress? {
        guard let hostPort = HostPort(parsing: text) else { return nil }
        return try? resolve(hostPort, socketType: BW_SOCK_STREAM, passive: false, numericOnly: true)
    }

    /// The local port a socket is bound to.
    static func boundPort(of fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return 0 }
        return withUnsafeBytes(of: storage) { raw in
            // sin_port and sin6_port sit at the same offset, in network byte order.
            UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        }
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) rethrows -> T {
        try withUnsafeBytes(of: storage) { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
