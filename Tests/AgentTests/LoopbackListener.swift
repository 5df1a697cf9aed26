import Glibc

/// A TCP listener on 127.0.0.1 that never calls accept: the kernel completes
/// handshakes until the backlog is full, then lets new connects hang.
final class LoopbackListener {
    let fd: Int32
    let port: UInt16

    init(backlog: Int32 = 64) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, backlog)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = UInt16(bigEndian: bound.sin_port)
    }

    var address: String { "127.0.0.1:\(port)" }

    func close() { Glibc.close(fd) }

    /// A port nothing listens on (bound, then closed): connects are refused.
    static func closedPort() -> UInt16 {
        let listener = LoopbackListener()
        listener.close()
        return listener.port
    }

    /// A listener whose backlog is full: a further connect gets no answer.
    static func neverAnswering() -> (listener: LoopbackListener, fillers: [Int32]) {
        let listener = LoopbackListener(backlog: 0)
        var fillers: [Int32] = []
        for _ in 0..<4 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = listener.port.bigEndian
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            fillers.append(client)
        }
        usleep(100_000)
        return (listener, fillers)
    }
}
