import Foundation
import Glibc

/// A network lab a test makes for itself (as root, with iproute2 and nftables): a namespace for beetlewatch, one per
/// replica, each with a veth to a bridge in a namespace of its own, addresses 10.77.0.0/24 that exist only inside them.
/// Nothing of it is seen from the host's own network; faults are nftables rules inside the agent's namespace (packets
/// dropped or lost on the path from beetlewatch to a replica, as a cut cable or a firewall does it: no refusal, no reset).
/// `remove()`, `deinit` and `scripts/test` after the run (namespaces named `beetlewatch_test_*`) take it down.
public final class NetworkLab: @unchecked Sendable {
    public static let ip = "/usr/sbin/ip"
    public static let nft = "/usr/sbin/nft"
    /// Whether a lab can be made here: root, iproute2 and nftables (`scripts/install-deps --test` installs them).
    public static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: ip)
            && FileManager.default.isExecutableFile(atPath: nft)
    }
    /// beetlewatch's address in the lab.
    public static let agentHost = "10.77.0.100"

    public let agent: NetworkNamespace
    public let replicas: [NetworkNamespace]
    private let bridge: NetworkNamespace
    private var removed = false

    /// A lab with `count` replica namespaces (at most 50).
    public init(replicas count: Int) throws {
        precondition((1...50).contains(count))
        let prefix = "beetlewatch_test_\(getpid())_\(UInt32.random(in: 0..<UInt32.max))"
        bridge = NetworkNamespace(name: "\(prefix)_switch")
        agent = NetworkNamespace(name: "\(prefix)_agent")
        replicas = (0..<count).map { NetworkNamespace(name: "\(prefix)_replica\($0)") }
        do {
            try Self.ip(["netns", "add", bridge.name])
            try Self.ip(["-n", bridge.name, "link", "add", "br0", "type", "bridge"])
            try Self.ip(["-n", bridge.name, "link", "set", "dev", "br0", "up"])
            try attach(agent, port: "vagent", host: Self.agentHost)
            for (i, replica) in replicas.enumerated() { try attach(replica, port: "vreplica\(i)", host: Self.replicaHost(i)) }
        } catch {
            remove()
            throw error
        }
    }

    /// Replica `i`'s address in the lab.
    public static func replicaHost(_ i: Int) -> String { "10.77.0.\(10 + i)" }

    /// Deletes every namespace of the lab (with them their links, sockets' routes and nftables tables).
    public func remove() {
        guard !removed else { return }
        removed = true
        for namespace in [agent, bridge] + replicas { _ = try? Command.run(Self.ip, ["netns", "delete", namespace.name]) }
    }

    deinit { remove() }

    private func attach(_ namespace: NetworkNamespace, port: String, host: String) throws {
        try Self.ip(["netns", "add", namespace.name])
        try Self.ip(["-n", namespace.name, "link", "set", "dev", "lo", "up"])
        try Self.ip(["link", "add", "eth0", "netns", namespace.name, "type", "veth", "peer", "name", port, "netns", bridge.name])
        try Self.ip(["-n", bridge.name, "link", "set", "dev", port, "master", "br0", "up"])
        try Self.ip(["-n", namespace.name, "addr", "add", "\(host)/24", "dev", "eth0"])
        try Self.ip(["-n", namespace.name, "link", "set", "dev", "eth0", "up"])
    }

    private static func ip(_ arguments: [String]) throws {
        let result = try Command.run(ip, arguments)
        guard result.status == 0 else { throw CommandFailure("ip \(arguments.joined(separator: " ")): \(result.stderr)") }
    }
}

/// A network namespace of a `NetworkLab`, and the way in: a socket made inside it stays in it whichever thread uses it
/// later, and a thread started from inside it starts inside it.
public final class NetworkNamespace: Sendable {
    public let name: String

    init(name: String) { self.name = name }

    /// Runs `body` on a thread of its own that entered this namespace, and waits for it: every socket it makes and
    /// every thread it starts (an agent's) belongs to the namespace.
    public func run<T>(_ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            // The thread lets go of `body` before the wait ends: it must not outlive this call.
            let work = Work(body)
            let thread = Thread { [name] in work.run(inNamespace: name) }
            thread.start()
            work.done.wait()
            return try work.result!.get()
        }
    }

    private final class Work<T>: @unchecked Sendable {
        var body: (() throws -> T)?
        var result: Result<T, any Error>?
        let done = DispatchSemaphore(value: 0)

        init(_ body: @escaping () throws -> T) { self.body = body }

        func run(inNamespace name: String) {
            defer {
                body = nil
                done.signal()
            }
            let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                result = .failure(CommandFailure("opening the namespace \(name): errno \(errno)"))
                return
            }
            defer { close(fd) }
            guard NetworkNamespace.setns(fd, NetworkNamespace.newNetworkNamespace) == 0 else {
                result = .failure(CommandFailure("entering the namespace \(name): errno \(errno)"))
                return
            }
            result = Result { try body!() }
        }
    }

    /// Whether the calling thread is in the process's own network namespace (the main thread's), not in a lab's: a
    /// thread started from inside a lab stays there, and a pool thread started so would take any test's sockets with it.
    public static var callerIsInTheProcesssNamespace: Bool {
        func link(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }
        return link("/proc/thread-self/ns/net") == link("/proc/self/ns/net")
    }

    /// Loads an nftables script inside the namespace (its tables go with it).
    public func nft(_ script: String) throws {
        let result = try Command.run(NetworkLab.ip, ["netns", "exec", name, NetworkLab.nft, "-f", "-"], input: script)
        guard result.status == 0 else { throw CommandFailure("nft -f in \(name): \(result.stderr)") }
    }

    /// Drops every packet to and from `hosts`, both ways: connects time out, established connections go silent. The
    /// returned table name undoes it (`nft delete table inet NAME`, `restore(_:)`).
    public func drop(_ hosts: [String]) throws -> String {
        try filter(hosts.map { "ip daddr \($0) drop\n ip saddr \($0) drop" }.joined(separator: "\n"))
    }

    /// Loses `percent`% of the packets to and from `host`, at random, both ways: a lossy path.
    public func lose(percent: Int, to host: String) throws -> String {
        precondition((1...99).contains(percent))
        return try filter(
            "ip daddr \(host) numgen random mod 100 < \(percent) drop\n ip saddr \(host) numgen random mod 100 < \(percent) drop")
    }

    /// Removes a table that `drop` or `lose` made.
    public func restore(_ table: String) throws {
        let result = try Command.run(NetworkLab.ip, ["netns", "exec", name, NetworkLab.nft, "delete", "table", "inet", table])
        guard result.status == 0 else { throw CommandFailure("nft delete table in \(name): \(result.stderr)") }
    }

    private func filter(_ rules: String) throws -> String {
        let table = "fault_\(UInt32.random(in: 0..<UInt32.max))"
        try nft(
            """
            table inet \(table) {
                chain output {
                    type filter hook output priority 0; policy accept;
                    \(rules)
                }
                chain input {
                    type filter hook input priority 0; policy accept;
                    \(rules)
                }
            }
            """)
        return table
    }

    /// A GET from inside the namespace to 127.0.0.1:`port` (HTTP/1.0: the whole body, then the connection closes).
    public func get(port: UInt16, _ path: String) throws -> (status: Int, body: String) {
        let fd = try run { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        guard fd >= 0 else { throw CommandFailure("socket in \(name): errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CommandFailure("connecting to 127.0.0.1:\(port) in \(name): errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw CommandFailure("sending to 127.0.0.1:\(port) in \(name): errno \(errno)")
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { throw CommandFailure("reading from 127.0.0.1:\(port) in \(name): errno \(errno)") }
            if count == 0 { break }
            reply += chunk[0..<count]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
            throw CommandFailure("no HTTP reply from 127.0.0.1:\(port) in \(name): \(text.prefix(80))")
        }
        return (status, String(text[headEnd.upperBound...]))
    }

    fileprivate static let newNetworkNamespace: Int32 = 0x4000_0000  // CLONE_NEWNET
    /// glibc's setns(2), not exported by Swift's Glibc module.
    fileprivate static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "setns") else { fatalError("setns is not in this libc") }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()
}
