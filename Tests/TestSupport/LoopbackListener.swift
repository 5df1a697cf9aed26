import Foundation
import Glibc
import Synchronization

/// A TCP listener on 127.0.0.1. By default it accepts and closes every connection,
/// like a live replica answering probes; with `accepting: false` it never calls accept,
/// so the kernel completes handshakes only until the backlog is full.
public final class LoopbackListener: @unchecked Sendable {
    public let fd: Int32
    public let port: UInt16
    private let open = Atomic<Bool>(true)

    public init(backlog: Int32 = 64, accepting: Bool = true) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        _ = Self.bind(fd, port: 0)
        listen(fd, backlog)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = UInt16(bigEndian: bound.sin_port)
        if accepting {
            Thread { [self] in
                while open.load(ordering: .relaxed) {
                    let client = accept(fd, nil, nil)
                    if client < 0 { return }
                    Glibc.close(client)
                }
            }.start()
        }
    }

    public var address: String { "127.0.0.1:\(port)" }

    public func close() {
        guard open.exchange(false, ordering: .relaxed) else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    /// A port nothing listens on (bound, then closed): connects are refused.
    ///
    /// Tests listen on such a port later (a receiver that comes back): it is chosen below the kernel's ephemeral range
    /// (`ip_local_port_range`), where no outgoing connection's local port can take it in the meantime (a port the kernel
    /// handed out to a listener and freed could be, and the listen then failed: seen with the canary's connections).
    public static func closedPort() -> UInt16 {
        let ephemeralStart =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { UInt16($0) } } ?? 32_768
        let low: UInt16 = 10_000
        precondition(ephemeralStart > low + 1_000, "the ephemeral range starts at \(ephemeralStart): no room below it")
        for _ in 0..<1_000 {
            let port = UInt16.random(in: low..<ephemeralStart)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { Glibc.close(fd) }
            if Self.bind(fd, port: port) { return port }
        }
        preconditionFailure("no free port below \(ephemeralStart)")
    }

    /// Binds `fd` to 127.0.0.1:`port` (0: a port the kernel picks); whether it could.
    public static func bind(_ fd: Int32, port: UInt16) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A listener whose backlog is full: a further connect gets no answer.
    public static func neverAnswering() -> (listener: LoopbackListener, fillers: [Int32]) {
        let listener = LoopbackListener(backlog: 0, accepting: false)
        var fillers: [Int32] = []
        for _ in 0..<4 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = listener.port.bigEndian
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(client)
        }
        usleep(100_000)
        return (listener, fillers)
    }
}
