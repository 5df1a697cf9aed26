import Foundation
import Glibc

/// A network fault made with nftables (as root): packets to some loopback ports dropped, both ways silent (no refusal,
/// no reset), as a cut path or a firewall does it. The table is named after this process and removed by `remove()`,
/// on `deinit`, and by `scripts/test` after the run (tables named `beetlewatch_test_*`).
public final class NetworkFault: @unchecked Sendable {
    public static let nft = "/usr/sbin/nft"
    /// Whether faults can be made here: root and nftables (`scripts/install-deps --test` installs it).
    public static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: nft) }

    public let table: String
    private var removed = false

    /// Drops every packet to and from 127.0.0.1 on `ports` (connects time out, established connections go silent both
    /// ways).
    public static func drop(toPorts ports: [UInt16]) throws -> NetworkFault {
        let fault = NetworkFault(table: "beetlewatch_test_\(getpid())_\(UInt32.random(in: 0..<UInt32.max))")
        let ports = ports.map(String.init).joined(separator: ", ")
        let script = """
            table inet \(fault.table) {
                chain output {
                    type filter hook output priority 0; policy accept;
                    ip daddr 127.0.0.1 tcp dport { \(ports) } drop
                    ip saddr 127.0.0.1 tcp sport { \(ports) } drop
                }
            }
            """
        let result = try Command.run(nft, ["-f", "-"], input: script)
        guard result.status == 0 else { throw CommandFailure("nft -f: \(result.stderr)") }
        return fault
    }

    /// Drops `percent`% of the packets to and from 127.0.0.1:`port`, at random, both ways: a lossy path (TCP recovers
    /// by retransmitting, late).
    public static func lose(percent: Int, onPort port: UInt16) throws -> NetworkFault {
        precondition((1...99).contains(percent))
        let fault = NetworkFault(table: "beetlewatch_test_\(getpid())_\(UInt32.random(in: 0..<UInt32.max))")
        let script = """
            table inet \(fault.table) {
                chain output {
                    type filter hook output priority 0; policy accept;
                    ip daddr 127.0.0.1 tcp dport \(port) numgen random mod 100 < \(percent) drop
                    ip saddr 127.0.0.1 tcp sport \(port) numgen random mod 100 < \(percent) drop
                }
            }
            """
        let result = try Command.run(nft, ["-f", "-"], input: script)
        guard result.status == 0 else { throw CommandFailure("nft -f: \(result.stderr)") }
        return fault
    }

    private init(table: String) { self.table = table }

    public func remove() {
        guard !removed else { return }
        removed = true
        _ = try? Command.run(Self.nft, ["delete", "table", "inet", table])
    }

    deinit { remove() }
}
