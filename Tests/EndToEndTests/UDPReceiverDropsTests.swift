import CNetShim
import Config
import Foundation
import Logging
import TestSupport
import Testing

@testable import Agent

@Suite(.timeLimit(.minutes(1)), .tags(.endToEnd)) struct UDPReceiverDropsTests {
    /// The kernel's drop counter comes from the socket itself, however many UDP sockets the host has
    /// (it used to be read from /proc/net/udp, whose first page held only ~30 rows).
    @Test func countsWhatTheKernelDroppedAmongManySockets() throws {
        var crowd: [Int32] = []
        defer { crowd.forEach { close($0) } }
        for _ in 0..<200 {
            let fd = socket(AF_INET, BW_SOCK_DGRAM, 0)
            try #require(fd >= 0)
            crowd.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(bound == 0)
        }
        // The smallest receive buffer the kernel grants, and nobody reading it.
        let receiver = try UDPReceiver(
            address: HostPort(host: "127.0.0.1", port: 0), readBuffer: 1,
            queue: IngestQueue(clock: SystemClock()), logger: Logger(label: "test"))
        #expect(receiver.kernelDrops() == 0)
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: receiver.port))
        let datagram = Array(String(repeating: "tb.x:1|c\n", count: 100).utf8)
        let sent = 200
        for _ in 0..<sent { try sender.send(datagram) }
        let drops = try #require(receiver.kernelDrops())
        // A few fit into the buffer; the kernel dropped the rest, each counted once.
        #expect(drops > 150 && drops < UInt64(sent), "drops \(drops) of \(sent)")
    }
}
