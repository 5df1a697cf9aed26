import Foundation
import Glibc

/// The real agent, as a child process on loopback ports, for the benchmarks.
final class AgentProcess: @unchecked Sendable {
    let process = Process()
    let statsdPort: UInt16
    let webPort: UInt16

    init(statsdPort: UInt16, webPort: UInt16, extraArguments: [String] = []) throws {
        self.statsdPort = statsdPort
        self.webPort = webPort
        // The agent built beside this program.
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("beetlewatch")
        process.arguments =
            [
                "run", "--statsd.listen-udp", "127.0.0.1:\(statsdPort)", "--web.listen-address", "127.0.0.1:\(webPort)",
                "--log.level", "error", "--statsd.ttl", "0",
            ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while (try? RawHTTP.get(port: webPort, path: "/health")) == nil {
            guard Date() < deadline else { throw BenchError("the agent did not start") }
            usleep(20_000)
        }
    }

    /// An agent on free loopback ports whose series limit is above the 1M the memory and scrape benchmarks load.
    static func forSeries() throws -> AgentProcess {
        try AgentProcess(
            statsdPort: freePort(udp: true), webPort: freePort(udp: false), extraArguments: ["--limits.max-series", "2000000"])
    }

    /// Resident memory of the agent, bytes (VmRSS).
    var residentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { return 0 }
        return kib * 1024
    }

    /// The agent's own counters from /metrics.
    func samples(path: String = "/metrics") throws -> [String: Double] {
        var out: [String: Double] = [:]
        for line in try RawHTTP.get(port: webPort, path: path).body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        return out
    }

    /// Sum of every sample whose name starts with `prefix`.
    func sum(_ prefix: String) throws -> Double {
        try samples().filter { $0.key.hasPrefix(prefix) }.reduce(0) { $0 + $1.value }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// A free loopback port (bound, then released).
    static func freePort(udp: Bool) -> UInt16 {
        let fd = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: bound.sin_port)
    }
}

/// A UDP socket connected to 127.0.0.1:`port` (the caller closes it).
func loopbackUDPSocket(port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var size: Int32 = 8 << 20
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, 4)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return fd
}

/// A TCP socket listening on 127.0.0.1:`port`, or nil when the port cannot be bound.
func loopbackTCPListener(port: UInt16, backlog: Int32 = 64) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, 4)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, backlog) == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// Accepts on `listener` on its own thread until the socket is closed, handing each connection to `serve`.
func acceptConnections(on listener: Int32, _ serve: @escaping @Sendable (Int32) -> Void) {
    Thread {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            serve(client)
        }
    }.start()
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
